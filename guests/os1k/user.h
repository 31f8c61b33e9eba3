/* SPDX-License-Identifier: MIT */
/* What ring-3 programs can use: system calls and a tiny C library. */
#ifndef OS1K_USER_H
#define OS1K_USER_H

#include "common.h"

/* ulib.c: system-call wrappers */
void putchar(char c);
int getchar(void);
void exit(int status) __attribute__((noreturn));
int write(const char *buf, u32 len);
u32 ticks(void);
void sleep(u32 nticks);
void yield(void);
int spawn(int (*program)(void));
int wait(int pid);
void kernel_fault_test(void);

/* ulib.c: library */
void printf(const char *fmt, ...);
void flush(void);
int readline(const char *prompt, char *buf, int size);
const char *skip_spaces(const char *s);
const char *parse_int(const char *s, int *value);

/* programs.c: what the shell's menu runs */
int multiplication_tables(void);
int counter(void);
int echo(void);
int fibonacci(void);
int primes(void);
int calculator(void);
int factorials(void);
int gcd_program(void);
int about(void);
/* crt0.S: the fault tests, at fixed addresses */
int null_dereference(void);
int privileged_cli(void);
int privileged_hlt(void);
int privileged_out(void);
int kernel_memory_read(void);
int idle_ticks(void);
int busy_ticks(void);
int round_robin(void);
int bad_pointers(void);
int kernel_panic(void);

/* shell.c */
int shell_main(void);

#endif /* OS1K_USER_H */
