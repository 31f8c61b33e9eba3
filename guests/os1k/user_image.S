/* SPDX-License-Identifier: MIT */
/*
 * The ring-3 programs (shell and all), linked for USER_BASE and flattened
 * to user.bin by the build, ride along in the kernel's read-only data.
 * Each new process gets its own copy.
 */
	.section .rodata
	.balign 4096
	.globl user_image_start, user_image_end
user_image_start:
	.incbin USER_BIN
	.balign 4, 0		/* whole words, for the copy in proc.c */
user_image_end:

	.section .note.GNU-stack, "", @progbits
