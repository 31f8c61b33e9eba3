/* SPDX-License-Identifier: MIT */
/*
 * The first bytes of the program image, at USER_BASE: every process
 * starts here in ring 3, with EAX = the program to run (0 for the shell).
 */
	.section .text.start, "ax"
	.globl _start
_start:
	pushl %eax
	call run_program
1:	jmp 1b			/* run_program does not return */

	.section .note.GNU-stack, "", @progbits
