/* SPDX-License-Identifier: MIT */
/*
 * What the kernel and the user programs share: fixed-size types, the
 * system-call numbers, string helpers and the printf formatter (fmt.c is
 * compiled into both).
 */
#ifndef OS1K_COMMON_H
#define OS1K_COMMON_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef int s32;

#define NULL ((void *)0)

typedef __builtin_va_list va_list;
#define va_start(ap, last) __builtin_va_start(ap, last)
#define va_arg(ap, type) __builtin_va_arg(ap, type)
#define va_end(ap) __builtin_va_end(ap)

/*
 * System calls: `int $0x80` with the number in EAX and arguments in EBX,
 * ECX, EDX; the result comes back in EAX.
 */
#define SYS_PUTCHAR	0	/* EBX = byte */
#define SYS_GETCHAR	1	/* -> byte 0-255, or -1 at end of input */
#define SYS_EXIT	2	/* EBX = status; does not return */
#define SYS_WRITE	3	/* EBX = buffer, ECX = length -> length or -1 */
#define SYS_TICKS	4	/* -> timer ticks since boot (TIMER_HZ a second) */
#define SYS_SLEEP	5	/* EBX = ticks to sleep (the CPU halts meanwhile) */
#define SYS_YIELD	6	/* let another process run */
#define SYS_SPAWN	7	/* EBX = entry in the program image -> pid or -1 */
#define SYS_WAIT	8	/* EBX = child pid -> its exit status, or -1 */
#define SYS_KFAULT	9	/* test hook: the kernel touches NULL and panics */

void *memset(void *dst, int c, u32 n);
void *memcpy(void *dst, const void *src, u32 n);
u32 strlen(const char *s);
int strcmp(const char *a, const char *b);

/*
 * The formatter behind kprintf and printf: %d %u %x %s %c and %%, with an
 * optional '0' flag and width (%08x, %3d). out() gets one byte at a time.
 */
void format(void (*out)(char c), const char *fmt, va_list ap);

#endif /* OS1K_COMMON_H */
