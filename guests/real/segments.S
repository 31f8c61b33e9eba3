/* SPDX-License-Identifier: MIT */
/*
 * segments: real mode away from segment 0, for the gdb stub's test (and
 * for trying gdb on). Entered at 0:0 like every real-mode guest, it
 * jumps over the IVT (which is at 0 too), points the int3 vector at a handler of its own, then far-jumps to
 * SEG:0, linear 0x200, and there adds 7 three times, runs an int3 of its
 * own (the handler counts it in SI) and prints the result. Every label is
 * linked at its linear address, so gdb's PC (CS.base + IP) and the ELF's
 * symbols agree: `break add_seven` stops at CS = 0x20, IP = 7 ($pc 0x207).
 */
#include "mini-kvm/abi.h"

SEG = 0x20

	.code16
	.globl _start
_start:
	jmp start			/* over the IVT, which starts at 0 too */

	.org 0x40
start:
	movw $int3_handler, 3 * 4	/* DS = 0: the IVT's vector 3 */
	movw $0, 3 * 4 + 2
	ljmp $SEG, $(seg_main - SEG * 16)

	.globl int3_handler
int3_handler:
	inc %si
	iret

	.org SEG * 16
	.globl seg_main
seg_main:
	xor %ax, %ax
	mov $3, %cx
	xor %si, %si
	.globl add_seven
add_seven:
	add $7, %ax
	dec %cx
	jnz add_seven
	.globl own_int3
own_int3:
	int3				/* the guest's own: its handler takes it */
	cmp $1, %si
	jne fail
	cmp $21, %ax
	jne fail
	mov $ok, %ebx			/* HC_WRITE takes a physical address */
	mov $ok_len, %ecx
	mov $HC_WRITE, %al
	mov $HC_PORT, %dx
	out %al, (%dx)
	.globl done
done:
	hlt
fail:
	mov $1, %ebx
	mov $HC_EXIT, %al
	mov $HC_PORT, %dx
	out %al, (%dx)

ok:	.ascii "segments: 3 x 7 = 21 at CS=0x20, and the guest's own int3 handled\n"
ok_len = . - ok
