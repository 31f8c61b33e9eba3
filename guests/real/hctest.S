/* SPDX-License-Identifier: MIT */
/*
 * hctest: exercises every hypercall of ABI version 1, then echoes its
 * input. In order: HC_VERSION must answer 1; an unknown number (0x7f)
 * must answer HC_ERR_NOSYS; HC_WRITE must refuse a buffer outside guest
 * memory (HC_ERR_FAULT) and one longer than HC_WRITE_MAX (HC_ERR_INVAL);
 * HC_REPORT and HC_PUTCHAR must answer 0. Each check prints one "ok"
 * line. Then every byte HC_GETCHAR returns is echoed with HC_PUTCHAR
 * until HC_EOF; a last line without a newline gets one. Finally it
 * prints the number of lines read and ends with HC_EXIT, status = that
 * number mod 256 (0 for empty input). A failed check prints "FAIL" and
 * ends at once with status 255.
 */
#include "mini-kvm/abi.h"

/* hc FN: the hypercall FN with the arguments already in EBX, ECX. */
.macro hc fn
	mov $\fn, %al
	mov $HC_PORT, %dx
	out %al, (%dx)
.endm

/* expect VALUE, MSG: EAX must be VALUE; prints MSG and " ok", or fails. */
.macro expect value, msg
	cmp $\value, %eax
	mov $\msg, %si
	jne fail
	call puts
	mov $ok, %si
	call puts
	call newline
.endm

	.code16
	.globl _start
_start:
	hc HC_VERSION
	expect HC_ABI_VERSION, m_version
	hc 0x7f
	expect HC_ERR_NOSYS, m_nosys
	mov $0xfffffff0, %ebx
	mov $16, %ecx
	hc HC_WRITE
	expect HC_ERR_FAULT, m_fault
	mov $line, %ebx
	mov $HC_WRITE_MAX + 1, %ecx
	hc HC_WRITE
	expect HC_ERR_INVAL, m_inval
	mov $0x4854, %ebx		/* tag "HT" */
	mov $HC_ABI_VERSION, %ecx
	hc HC_REPORT
	expect 0, m_report
	mov $'h', %bl			/* the first byte of m_putchar's line */
	hc HC_PUTCHAR
	expect 0, m_putchar
	mov $m_echo, %si
	call puts
	call newline

	xor %bp, %bp			/* lines read */
	mov $'\n', %di			/* the last byte; empty input ends a line */
1:	hc HC_GETCHAR
	cmp $HC_EOF, %eax
	je 2f
	mov %ax, %di
	mov %al, %bl
	hc HC_PUTCHAR
	cmp $'\n', %di
	jne 1b
	inc %bp
	jmp 1b
2:	cmp $'\n', %di			/* a last line without its newline */
	je 3f
	inc %bp
	mov $'\n', %bl
	hc HC_PUTCHAR
3:	mov $m_lines, %si
	call puts
	mov %bp, %ax
	xor %cx, %cx
	call put_num
	mov $m_status, %si
	call puts
	and $0xff, %bp
	mov %bp, %ax
	call put_num
	call newline
	movzbl %al, %ebx
	hc HC_EXIT

/* fail: prints "hctest: FAIL: " and the check at SI, exits with 255. */
fail:
	push %si
	mov $m_fail, %si
	call puts
	pop %si
	call puts
	call newline
	mov $255, %ebx
	hc HC_EXIT

/* puts: appends the NUL-terminated string at SI to the line. */
puts:
	push %ax
1:	lodsb
	test %al, %al
	jz 2f
	call putc
	jmp 1b
2:	pop %ax
	ret

ok:		.asciz " ok"
m_version:	.asciz "hctest: HC_VERSION answers 2"
m_nosys:	.asciz "hctest: unknown hypercall 0x7f answers HC_ERR_NOSYS"
m_fault:	.asciz "hctest: HC_WRITE outside guest memory answers HC_ERR_FAULT"
m_inval:	.asciz "hctest: HC_WRITE longer than HC_WRITE_MAX answers HC_ERR_INVAL"
m_report:	.asciz "hctest: HC_REPORT answers 0"
m_putchar:	.asciz "ctest: HC_PUTCHAR answers 0"
m_echo:		.asciz "hctest: echoing input until HC_EOF"
m_lines:	.asciz "hctest: "
m_status:	.asciz " lines read, exit status "
m_fail:		.asciz "hctest: FAIL: "

#include "lineout.inc"
