/* SPDX-License-Identifier: MIT */
/*
 * minimal: the smallest guest, one hlt. Without an irqchip hlt returns to
 * the host, so this guest ends at once with status 0 and prints nothing.
 */
	.code16
	.globl _start
_start:
	hlt
