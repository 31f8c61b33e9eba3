/* SPDX-License-Identifier: MIT */
/*
 * The programs behind the shell's menu, plus the hidden test programs.
 * Each runs as its own ring-3 process; its return value is its exit
 * status. Programs that read input stop at end of input too.
 */
#include "user.h"

int multiplication_tables(void)
{
	int a, b;

	for (a = 2; a <= 9; a++) {
		printf("%d x 1..9:", a);
		for (b = 1; b <= 9; b++)
			printf(" %2d", a * b);
		printf("\n");
	}
	return 0;
}

/* Counts slowly: a pause of 2 ticks between numbers, spent halted. */
int counter(void)
{
	int i;

	printf("counting:");
	for (i = 0; i <= 9; i++) {
		printf(" %d", i);
		flush();
		sleep(2);
	}
	printf("\n");
	return 0;
}

int echo(void)
{
	char line[80];

	printf("echo: type lines, \"quit\" to leave\n");
	while (readline("echo> ", line, sizeof(line)) >= 0) {
		if (!strcmp(line, "quit"))
			break;
		printf("%s\n", line);
	}
	return 0;
}

int fibonacci(void)
{
	int a = 0, b = 1, next, i;

	printf("fibonacci:");
	for (i = 0; i < 15; i++) {
		printf(" %d", a);
		next = a + b;
		a = b;
		b = next;
	}
	printf("\n");
	return 0;
}

int primes(void)
{
	int n, d, count = 0;

	printf("primes up to 100:");
	for (n = 2; n <= 100; n++) {
		for (d = 2; d * d <= n && n % d; d++)
			;
		if (d * d > n) {
			printf(" %d", n);
			count++;
		}
	}
	printf("\n%d primes\n", count);
	return 0;
}

/* a op b -> 0 and *result, or an error message. */
static const char *calculate(const char *s, int *result)
{
	int a, b;
	char op;

	s = parse_int(skip_spaces(s), &a);
	if (!s)
		return "expected: a op b (op is + - * /)";
	s = skip_spaces(s);
	op = *s;
	if (op != '+' && op != '-' && op != '*' && op != '/')
		return "expected: a op b (op is + - * /)";
	s = parse_int(skip_spaces(s + 1), &b);
	if (!s || *skip_spaces(s))
		return "expected: a op b (op is + - * /)";
	if (op == '/' && b == 0)
		return "division by zero";
	if ((op == '+' && __builtin_add_overflow(a, b, result)) ||
	    (op == '-' && __builtin_sub_overflow(a, b, result)) ||
	    (op == '*' && __builtin_mul_overflow(a, b, result)) ||
	    (op == '/' && a == -2147483647 - 1 && b == -1))
		return "overflow";
	if (op == '/')
		*result = a / b;	/* rounds toward zero, like C */
	return NULL;
}

int calculator(void)
{
	char line[80];
	const char *error;
	int result = 0;

	printf("calculator: a op b, with + - * / on integers; \"quit\" to "
	       "leave\n");
	while (readline("calc> ", line, sizeof(line)) >= 0) {
		if (!strcmp(line, "quit"))
			break;
		if (line[0] == '\0')
			continue;
		error = calculate(line, &result);
		if (error)
			printf("error: %s\n", error);
		else
			printf("= %d\n", result);
	}
	return 0;
}

int factorials(void)
{
	u32 f = 1;
	int n;

	/* 12! is the largest that fits in 32 bits. */
	for (n = 0; n <= 12; n++) {
		if (n > 0)
			f *= n;
		printf("%2d! = %u\n", n, f);
	}
	return 0;
}

static int gcd(int a, int b)
{
	int t;

	while (b) {
		t = a % b;
		a = b;
		b = t;
	}
	return a;
}

/* Pairs of non-negative numbers until "quit" or an empty line. */
int gcd_program(void)
{
	char line[80];
	const char *s;
	int a, b;

	printf("gcd: type two numbers \"a b\"; \"quit\" or an empty line "
	       "leaves\n");
	while (readline("gcd> ", line, sizeof(line)) > 0) {
		if (!strcmp(line, "quit"))
			break;
		s = parse_int(skip_spaces(line), &a);
		if (s)
			s = parse_int(skip_spaces(s), &b);
		if (!s || *skip_spaces(s) || a < 0 || b < 0) {
			printf("error: expected two numbers >= 0\n");
			continue;
		}
		printf("gcd(%d, %d) = %d\n", a, b, gcd(a, b));
	}
	return 0;
}

int about(void)
{
	printf("os1k: the 1K OS, a small x86 kernel: 32-bit protected mode,\n"
	       "paging, programs in ring 3, system calls through int 0x80,\n"
	       "and a 100 Hz timer that preempts them.\n");
	printf("ticks since boot: %u\n", ticks());
	return 0;
}

/* The hidden test programs (the faulting ones are in crt0.S). */

/* Sleeping halts the CPU; the ticks must still move. */
int idle_ticks(void)
{
	u32 before = ticks(), after;

	sleep(50);
	after = ticks();
	printf("ticks before: %u\n", before);
	printf("ticks after: %u\n", after);
	printf("ticks moved while idle: %s\n",
	       after - before >= 50 ? "yes" : "no");
	return 0;
}

/*
 * Spin in ring 3: the count moves only because timer interrupts reach
 * ring 3 (and may preempt us there).
 */
int busy_ticks(void)
{
	u32 start = ticks();
	volatile int spin;

	while (ticks() - start < 10)
		for (spin = 0; spin < 10000; spin++)
			;
	printf("ticks moved while busy: yes\n");
	return 0;
}

/* Spin in ring 3 for 20 ticks of its own; never gives up the CPU itself. */
static int spinner(void)
{
	u32 start = ticks();
	volatile int spin;

	while (ticks() - start < 20)
		for (spin = 0; spin < 10000; spin++)
			;
	return 0;
}

/*
 * Round robin: two spinners at once. If the timer preempts them in turn
 * they finish together, after about 20 ticks; one after the other would
 * take 40.
 */
int round_robin(void)
{
	u32 start = ticks(), elapsed;
	int a = spawn(spinner);
	int b = spawn(spinner);

	if (a < 0 || b < 0) {
		printf("round robin: cannot start the spinners\n");
		return 1;
	}
	wait(a);
	wait(b);
	elapsed = ticks() - start;
	printf("two spinners of 20 ticks each, preempted in turn, took under "
	       "30: %s\n", elapsed < 30 ? "yes" : "no");
	return 0;
}

/* The kernel must refuse pointers that are not the program's own. */
int bad_pointers(void)
{
	printf("write(0x80000000, 16) = %d\n",
	       write((const char *)0x80000000, 16));
	printf("write(NULL, 1) = %d\n", write(NULL, 1));
	printf("write(0x007ffff0, 32) = %d\n",
	       write((const char *)0x007ffff0, 32));
	return 0;
}

int kernel_panic(void)
{
	printf("asking the kernel to fault...\n");
	flush();
	kernel_fault_test();
	return 0;
}
