/* SPDX-License-Identifier: MIT */
/*
 * Where the kernel starts. A multiboot loader (QEMU -kernel) or mini-kvm
 * jumps to _start in 32-bit flat protected mode with paging off, so this
 * part lives at its physical address (VMA = LMA, see kernel.ld). It turns
 * on paging with a boot page directory that maps the first 4 MiB both at 0
 * (so the next instruction still exists) and at KERNEL_BASE, jumps to the
 * high half, and from there on the kernel never looks at low addresses.
 */
#define KERNEL_BASE	0x80000000
#define MB_MAGIC	0x1BADB002
#define MB_FLAGS	0x00000003	/* page-align modules, memory info */

	.section .multiboot, "a"
	.balign 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.section .boot.text, "ax"
	.code32
	.globl _start
_start:
	cli
	movl %cr4, %eax
	orl $0x10, %eax			/* CR4.PSE: 4 MiB pages */
	movl %eax, %cr4
	movl $boot_pgdir, %eax
	movl %eax, %cr3
	movl %cr0, %eax
	orl $0x80010000, %eax		/* CR0.PG, and CR0.WP */
	movl %eax, %cr0
	movl $high_start, %eax
	jmp *%eax

	/* 0 -> 0 and KERNEL_BASE -> 0, 4 MiB each: present, writable, PS. */
	.section .boot.data, "aw"
	.balign 4096
boot_pgdir:
	.long 0x00000083
	.fill (KERNEL_BASE >> 22) - 1, 4, 0
	.long 0x00000083
	.fill 1023 - (KERNEL_BASE >> 22), 4, 0

	.text
high_start:
	/* Clear .bss before anything relies on it (the stack is in it too). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	cld
	rep stosb
	movl $boot_stack_top, %esp
	xorl %ebp, %ebp
	call kernel_main
1:	cli
	hlt
	jmp 1b

	/* The boot stack becomes the idle process's kernel stack. */
	.bss
	.balign 4096
	.globl boot_stack
boot_stack:
	.space 4096
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
