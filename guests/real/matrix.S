/* SPDX-License-Identifier: MIT */
/*
 * matrix: multiplies two 4x4 matrices of signed 16-bit integers with imul
 * and prints A, B and their product C = A x B, each under a title line
 * ("A =", "B =", "A x B =") as four rows of four right-aligned numbers.
 * The selftest parses A and B from this output and checks C on the host.
 */
#include "mini-kvm/abi.h"

#define N 4
#define ROW (N * 2)			/* bytes per row of words */

	.code16
	.globl _start
_start:
	xor %si, %si			/* i * ROW */
1:	xor %di, %di			/* j * 2 */
2:	xor %bp, %bp			/* the sum */
	xor %bx, %bx			/* k * 2 */
3:	mov mat_a(%bx,%si), %ax		/* A[i][k] */
	push %bx
	shl $2, %bx			/* k * ROW */
	mov mat_b(%bx,%di), %cx		/* B[k][j] */
	pop %bx
	imul %cx
	add %ax, %bp
	add $2, %bx
	cmp $ROW, %bx
	jb 3b
	push %si
	add %di, %si
	mov %bp, mat_c(%si)
	pop %si
	add $2, %di
	cmp $ROW, %di
	jb 2b
	add $ROW, %si
	cmp $N * ROW, %si
	jb 1b

	mov $title_a, %si
	mov $mat_a, %di
	call print_matrix
	mov $title_b, %si
	mov $mat_b, %di
	call print_matrix
	mov $title_c, %si
	mov $mat_c, %di
	call print_matrix
	hlt

/* print_matrix: the title at SI on a line, then the N x N words at DI. */
print_matrix:
	lodsb
	test %al, %al
	jz 1f
	call putc
	jmp print_matrix
1:	call newline
	mov $N, %dx
2:	mov $N, %bx
3:	mov (%di), %ax
	mov $5, %cx
	call put_snum
	add $2, %di
	dec %bx
	jnz 3b
	call newline
	dec %dx
	jnz 2b
	ret

/* put_snum: appends AX as signed decimal, right-aligned in CX columns. */
put_snum:
	test %ax, %ax
	jns put_num
	pusha
	neg %ax
	mov %ax, %di
	mov $10, %bx
	mov $1, %si			/* the '-' takes a column too */
1:	xor %dx, %dx
	div %bx
	inc %si
	test %ax, %ax
	jnz 1b
2:	cmp %cx, %si
	jae 3f
	mov $' ', %al
	call putc
	dec %cx
	jmp 2b
3:	mov $'-', %al
	call putc
	mov %di, %ax
	xor %cx, %cx
	call put_num
	popa
	ret

title_a: .asciz "A ="
title_b: .asciz "B ="
title_c: .asciz "A x B ="

mat_a:	.word  1,  2, -3,  4
	.word  0,  5,  6, -7
	.word  8, -9, 10, 11
	.word -2,  3,  1,  0
mat_b:	.word  2,  0,  1, -1
	.word  3, -4,  2,  5
	.word -1,  6,  0,  2
	.word  4,  1, -3,  7
mat_c:	.skip N * ROW

#include "lineout.inc"
