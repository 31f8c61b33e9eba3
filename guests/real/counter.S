/* SPDX-License-Identifier: MIT */
/*
 * counter: counts from 0 to 9, one number a line, then halts. A loop, a
 * conversion to ASCII and one hypercall a line.
 */
#include "mini-kvm/abi.h"

	.code16
	.globl _start
_start:
	xor %ax, %ax
1:	mov $1, %cx
	call put_num
	call newline
	inc %ax
	cmp $10, %ax
	jb 1b
	hlt

/*
 * Line output, the same in every guest that prints numbers: bytes collect
 * in line[] and flush sends them with one HC_WRITE, so a line costs one VM
 * exit instead of one per byte (each exit is expensive; see DESIGN.md).
 */

/* putc: appends AL to the line. Clobbers nothing. */
putc:
	push %di
	mov linepos, %di
	mov %al, line(%di)
	inc %di
	mov %di, linepos
	pop %di
	ret

/* put_num: appends AX as unsigned decimal, right-aligned in CX columns. */
put_num:
	pusha
	mov $10, %bx
	xor %si, %si			/* digits pushed so far */
1:	xor %dx, %dx
	div %bx
	push %dx
	inc %si
	test %ax, %ax
	jnz 1b
2:	cmp %cx, %si			/* pad with spaces up to the width */
	jae 3f
	mov $' ', %al
	call putc
	dec %cx
	jmp 2b
3:	pop %ax
	add $'0', %al
	call putc
	dec %si
	jnz 3b
	popa
	ret

/* flush: writes the line with HC_WRITE and empties it. */
flush:
	pushal
	mov $line, %ebx
	movzwl linepos, %ecx
	mov $HC_WRITE, %al
	mov $HC_PORT, %dx
	out %al, (%dx)
	movw $0, linepos
	popal
	ret

/* newline: ends the line and flushes it. */
newline:
	push %ax
	mov $'\n', %al
	call putc
	call flush
	pop %ax
	ret

linepos: .word 0
line:	.skip 128
