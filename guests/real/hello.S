/* SPDX-License-Identifier: MIT */
/*
 * hello: prints "Hello, KVM!" with a single HC_WRITE hypercall (one VM
 * exit for the whole line) and halts.
 */
#include "mini-kvm/abi.h"

	.code16
	.globl _start
_start:
	mov $msg, %ebx			/* DS base is 0: offset = physical */
	mov $msg_len, %ecx
	mov $HC_WRITE, %al
	mov $HC_PORT, %dx
	out %al, (%dx)
	hlt

msg:	.ascii "Hello, KVM!\n"
msg_len = . - msg
