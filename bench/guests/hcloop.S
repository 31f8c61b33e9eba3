/* SPDX-License-Identifier: MIT */
/*
 * hcloop: COUNT HC_PUTCHAR calls ('x'), then hlt. COUNT is the 32-bit
 * word at offset 2 of the image: `make bench` patches it. The floor
 * program runs the very same image and re-enters each port-I/O exit
 * without looking at it (the bare PIO exit loop).
 */
#include "mini-kvm/abi.h"

	.code16
	.globl _start
_start:
	.byte 0xeb, count_end - count	/* jmp over the count */
count:
	.long 1000
count_end:
	movl %cs:count, %ecx
	mov $HC_PORT, %dx
	mov $'x', %bl
1:	mov $HC_PUTCHAR, %al
	out %al, (%dx)
	dec %ecx
	jnz 1b
	hlt
