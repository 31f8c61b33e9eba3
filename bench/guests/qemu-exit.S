/* SPDX-License-Identifier: MIT */
/*
 * qemu-exit: the trivial guest for QEMU, given as -bios (64 KiB, QEMU
 * wants a multiple of that). The CPU starts at the reset vector, 16 bytes
 * below the end, in real mode; the guest writes 0 to isa-debug-exit at
 * port 0xf4, and QEMU exits with status (0 << 1) | 1 = 1. The hlt after it
 * is never reached: mini-kvm's minimal guest is that one hlt.
 */
	.code16
	.globl _start
_start:
	.org 0xfff0
	xor %al, %al
	out %al, $0xf4
	hlt
	.org 0x10000
