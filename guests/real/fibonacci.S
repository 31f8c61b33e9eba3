/* SPDX-License-Identifier: MIT */
/*
 * fibonacci: prints the Fibonacci numbers that fit in 16 bits, F(0) = 0
 * to F(24) = 46368, one a line as "F(n) = value", then halts. The loop
 * ends on the carry out of the 16-bit addition, not on a fixed count.
 */
#include "mini-kvm/abi.h"

	.code16
	.globl _start
_start:
	xor %ax, %ax			/* F(n) */
	mov $1, %bx			/* F(n + 1) */
	xor %bp, %bp			/* n */
1:	call print_fib
	inc %bp
	xchg %ax, %bx			/* (F(n), F(n + 1)) moves one step on */
	add %ax, %bx
	jnc 1b
	call print_fib			/* F(n + 1) overflowed; F(n) still fits */
	hlt

/* print_fib: prints "F(BP) = AX" and a newline. */
print_fib:
	push %ax
	xor %cx, %cx			/* no padding */
	mov $'F', %al
	call putc
	mov $'(', %al
	call putc
	mov %bp, %ax
	call put_num
	mov $')', %al
	call putc
	mov $' ', %al
	call putc
	mov $'=', %al
	call putc
	mov $' ', %al
	call putc
	pop %ax
	call put_num
	jmp newline

#include "lineout.inc"
