/* SPDX-License-Identifier: MIT */
/*
 * spin: fixed CPU work without a single exit: a loop of COUNT iterations,
 * then hlt. COUNT is the 32-bit word at offset 2 of the image: `make
 * bench` patches it so that one run takes long enough to measure.
 */
	.code16
	.globl _start
_start:
	.byte 0xeb, count_end - count	/* jmp over the count */
count:
	.long 1000000
count_end:
	movl %cs:count, %ecx
	xor %eax, %eax
1:	add %ecx, %eax
	dec %ecx
	jnz 1b
	hlt
