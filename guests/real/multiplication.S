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

#include "lineout.inc"
