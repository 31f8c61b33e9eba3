/* SPDX-License-Identifier: MIT */
/*
 * System calls, reached through `int $0x80` (the one DPL 3 gate). The
 * numbers and registers are in common.h. Pointers from ring 3 are checked
 * against the process's page tables before the kernel touches them.
 */
#include "kernel.h"

#define WRITE_MAX 4096

/* Blocks until a byte comes; -1 at end of input. */
static int sys_getchar(void)
{
	int c, r;

	/* COM1 has no input interrupt here: look again every tick. */
	while ((r = console_getc(&c)) == 0)
		proc_sleep(1);
	return r < 0 ? -1 : c;
}

static int sys_write(u32 buf, u32 len)
{
	if (len > WRITE_MAX || !user_range_ok(current_pgdir(), buf, len))
		return -1;
	console_write((const char *)buf, len);
	return (int)len;
}

void syscall(struct trapframe *tf)
{
	u32 a = tf->ebx, b = tf->ecx;
	int r = 0;

	switch (tf->eax) {
	case SYS_PUTCHAR:
		console_putc((char)a);
		break;
	case SYS_GETCHAR:
		r = sys_getchar();
		break;
	case SYS_EXIT:
		proc_exit((int)a);
	case SYS_WRITE:
		r = sys_write(a, b);
		break;
	case SYS_TICKS:
		r = (int)ticks_now();
		break;
	case SYS_SLEEP:
		proc_sleep(a);
		break;
	case SYS_YIELD:
		yield();
		break;
	case SYS_SPAWN:
		r = proc_spawn(a);
		break;
	case SYS_WAIT:
		r = proc_wait((int)a);
		break;
	case SYS_KFAULT:
		r = kernel_fault_test();
		break;
	default:
		r = -1;
	}
	tf->eax = (u32)r;
}
