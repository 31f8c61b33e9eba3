/* SPDX-License-Identifier: MIT */
/*
 * The first bytes of the program image, at USER_BASE: every process
 * starts here in ring 3, with EAX = the program to run (0 for the shell).
 *
 * The hidden fault programs follow, in assembly, each at a fixed address
 * (USER_BASE + 0x10, 0x20, ...), so the kernel's "killed" messages, which
 * show the faulting EIP, stay the same whatever the compiler does with the
 * rest. tests/faults.out depends on these addresses.
 */
	.section .text.start, "ax"
	.globl _start
_start:
	pushl %eax
	call run_program
1:	jmp 1b			/* run_program does not return */

	/* 0x00400010: read what NULL points to (page 0 is never mapped). */
	.balign 16
	.globl null_dereference
null_dereference:
	movl 0, %eax
	ret

	/* 0x00400020: read the kernel's memory (mapped, but not for ring 3). */
	.balign 16
	.globl kernel_memory_read
kernel_memory_read:
	movl 0x80000000, %eax
	ret

	/* 0x00400030 and on: privileged instructions, #GP at CPL 3. */
	.balign 16
	.globl privileged_cli
privileged_cli:
	cli
	xorl %eax, %eax
	ret

	.balign 16
	.globl privileged_hlt
privileged_hlt:
	hlt
	xorl %eax, %eax
	ret

	/* IOPL is 0 and the TSS has no I/O bitmap: no port is ours. */
	.balign 16
	.globl privileged_out
privileged_out:
	xorl %eax, %eax
	outb %al, $0xf4		/* 0x00400052: QEMU's power-off port */
	ret

	.section .note.GNU-stack, "", @progbits
