/* SPDX-License-Identifier: MIT */
/*
 * counter: counts from 0 to 9, one number a line, then halts. A loop, a
 * conversion to ASCII and one hypercall a line.
 */
#include "mini-kvm/abi.h"

	.code16
	.globl _start
_start:
	xor %ax, %ax
1:	mov $1, %cx
	call put_num
	call newline
	inc %ax
	cmp $10, %ax
	jb 1b
	hlt

#include "lineout.inc"
