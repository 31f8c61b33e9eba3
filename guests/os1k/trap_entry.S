/* SPDX-License-Identifier: MIT */
/*
 * Trap entry and exit, and the context switch.
 *
 * Every vector gets a stub that makes the stack look the same: an error
 * code (the CPU pushes one for some exceptions, the stub a 0 for the
 * others), then the vector number. trap_common saves the rest so that the
 * stack holds a struct trapframe (kernel.h) and calls trap(tf).
 */
#define SEL_KDATA 0x10

	.text

/* Exceptions for which the CPU pushes an error code. */
.macro stub n
vector\n:
	.if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
	.else
	pushl $0
	.endif
	pushl $\n
	jmp trap_common
.endm

/* Vectors 0-31 are exceptions, 32-47 the remapped PIC IRQs. */
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	stub \n
	.endr

	.globl syscall_vector
syscall_vector:
	pushl $0
	pushl $0x80
	jmp trap_common

trap_common:
	pushl %ds
	pushl %es
	pushl %fs
	pushl %gs
	pushal
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %fs
	movw %ax, %gs
	pushl %esp			/* the struct trapframe pointer */
	call trap
	addl $4, %esp
	/* A new process starts here too: see proc_spawn. */
	.globl trap_return
trap_return:
	popal
	popl %gs
	popl %fs
	popl %es
	popl %ds
	addl $8, %esp			/* vector and error code */
	iret

/*
 * void switch_context(u32 *save_sp, u32 new_sp): save the callee-saved
 * registers on this kernel stack, store the stack pointer in *save_sp,
 * and resume the kernel stack new_sp where it left off (or, for a new
 * process, at trap_return).
 */
	.globl switch_context
switch_context:
	movl 4(%esp), %eax
	movl 8(%esp), %edx
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, (%eax)
	movl %edx, %esp
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/*
 * The panic test's deliberate kernel bug (SYS_KFAULT): read what NULL
 * points to. kernel.ld puts it first in .text, at 0x80102000, so the
 * panic message in tests/panic.out does not depend on the compiler.
 */
	.section .text.kfault, "ax"
	.globl kernel_fault_test
kernel_fault_test:
	movl 0, %eax
	ret

	.section .rodata
	.balign 4
	.globl trap_vectors
trap_vectors:
	.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47
	.long vector\n
	.endr

	.section .note.GNU-stack, "", @progbits
