/* SPDX-License-Identifier: MIT */
/*
 * multiplication: the times tables from 2 to 9 as one table, a header
 * row of factors 1-9, a rule, then one row per table:
 *
 *	  x |  1  2  3  4  5  6  7  8  9
 *	----+---------------------------
 *	  2 |  2  4  6  8 10 12 14 16 18
 *
 * Each product is computed with mul, not looked up; then the guest halts.
 */
#include "mini-kvm/abi.h"

	.code16
	.globl _start
_start:
	mov $head, %si			/* "  x |" */
	call puts
	mov $1, %bx
1:	mov %bx, %ax
	mov $3, %cx
	call put_num
	inc %bx
	cmp $10, %bx
	jb 1b
	call newline
	mov $rule, %si
	call puts
	mov $27, %bx			/* 9 columns of 3 */
2:	mov $'-', %al
	call putc
	dec %bx
	jnz 2b
	call newline

	mov $2, %bp			/* the table */
3:	mov %bp, %ax
	mov $3, %cx
	call put_num
	mov $sep, %si
	call puts
	mov $1, %bx			/* the factor */
4:	mov %bp, %ax
	mul %bx				/* DX:AX = table * factor, DX = 0 */
	mov $3, %cx
	call put_num
	inc %bx
	cmp $10, %bx
	jb 4b
	call newline
	inc %bp
	cmp $10, %bp
	jb 3b
	hlt

/* puts: appends the NUL-terminated string at SI. */
puts:
	lodsb
	test %al, %al
	jz 1f
	call putc
	jmp puts
1:	ret

head:	.asciz "  x |"
rule:	.asciz "----+"
sep:	.asciz " |"

/*
 * Line output, the same in every guest that prints numbers: bytes collect
 * in line[] and flush sends them with one HC_WRITE, so a line costs one VM
 * exit instead of one per byte (each exit is expensive; see DESIGN.md).
 */

/* putc: appends AL to the line. Clobbers nothing. */
putc:
	push %di
	mov linepos, %di
	mov %al, line(%di)
	inc %di
	mov %di, linepos
	pop %di
	ret

/* put_num: appends AX as unsigned decimal, right-aligned in CX columns. */
put_num:
	pusha
	mov $10, %bx
	xor %si, %si			/* digits pushed so far */
1:	xor %dx, %dx
	div %bx
	push %dx
	inc %si
	test %ax, %ax
	jnz 1b
2:	cmp %cx, %si			/* pad with spaces up to the width */
	jae 3f
	mov $' ', %al
	call putc
	dec %cx
	jmp 2b
3:	pop %ax
	add $'0', %al
	call putc
	dec %si
	jnz 3b
	popa
	ret

/* flush: writes the line with HC_WRITE and empties it. */
flush:
	pushal
	mov $line, %ebx
	movzwl linepos, %ecx
	mov $HC_WRITE, %al
	mov $HC_PORT, %dx
	out %al, (%dx)
	movw $0, linepos
	popal
	ret

/* newline: ends the line and flushes it. */
newline:
	push %ax
	mov $'\n', %al
	call putc
	call flush
	pop %ax
	ret

linepos: .word 0
line:	.skip 128
