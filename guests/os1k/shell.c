/* SPDX-License-Identifier: MIT */
/*
 * The shell: the first process. It shows a menu, runs the chosen program
 * as a child process (its own address space, ring 3) and waits for it.
 * End of input, or choice 0, ends the shell, and with it the system.
 *
 * Hidden choices, for tests (not in the menu on purpose):
 *   n  NULL dereference              -> the program is killed (page fault)
 *   k  read kernel memory 0x80000000 -> killed (page fault)
 *   c  cli in ring 3                 -> killed (general protection)
 *   h  hlt in ring 3                 -> killed (general protection)
 *   o  out to port 0xf4 in ring 3    -> killed (general protection)
 *   i  sleep 50 ticks, print the tick count before and after
 *   b  spin in ring 3 until 10 ticks pass (timer interrupts ring 3)
 *   r  two ring-3 spinners at once: preemption shares the CPU between them
 *   w  write() with kernel, NULL and half-mapped buffers: each gets -1
 *   P  a system call that makes the kernel fault: kernel panic, status 1
 */
#include "user.h"

struct choice {
	char key;
	const char *title;	/* NULL: hidden from the menu */
	int (*program)(void);
};

static const struct choice choices[] = {
	{ '1', "multiplication tables", multiplication_tables },
	{ '2', "counter", counter },
	{ '3', "echo", echo },
	{ '4', "fibonacci", fibonacci },
	{ '5', "primes", primes },
	{ '6', "calculator", calculator },
	{ '7', "factorials", factorials },
	{ '8', "gcd", gcd_program },
	{ '9', "about", about },
	{ 'n', NULL, null_dereference },
	{ 'k', NULL, kernel_memory_read },
	{ 'c', NULL, privileged_cli },
	{ 'h', NULL, privileged_hlt },
	{ 'o', NULL, privileged_out },
	{ 'i', NULL, idle_ticks },
	{ 'b', NULL, busy_ticks },
	{ 'r', NULL, round_robin },
	{ 'w', NULL, bad_pointers },
	{ 'P', NULL, kernel_panic },
};

#define NCHOICES (int)(sizeof(choices) / sizeof(choices[0]))

static void show_menu(void)
{
	int i;

	printf("\n");
	for (i = 0; i < NCHOICES; i++)
		if (choices[i].title)
			printf("  %c  %s\n", choices[i].key, choices[i].title);
	printf("  0  power off\n");
}

static void run(int (*program)(void))
{
	int pid = spawn(program);

	if (pid < 0) {
		printf("shell: cannot start the program\n");
		return;
	}
	/* A killed program's message comes from the kernel. */
	wait(pid);
}

int shell_main(void)
{
	char line[32];
	int i;

	printf("os1k shell: pick a program by its number\n");
	for (;;) {
		show_menu();
		if (readline("choice> ", line, sizeof(line)) < 0)
			break;
		if (line[0] == '\0')
			continue;
		if (!strcmp(line, "0")) {
			printf("bye\n");
			return 0;
		}
		for (i = 0; i < NCHOICES; i++)
			if (line[0] == choices[i].key && line[1] == '\0')
				break;
		if (i < NCHOICES)
			run(choices[i].program);
		else
			printf("no such program: %s\n", line);
	}
	printf("end of input\n");
	return 0;
}
