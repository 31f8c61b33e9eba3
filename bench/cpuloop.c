// SPDX-License-Identifier: MIT
/*
 * cpuloop: the control for the multi-vCPU figures. K processes (fork),
 * each counting down from N in a plain loop, no KVM at all: how well does
 * the machine itself run K CPU-bound things at once?
 *
 *   cpuloop N [K]     default K = 1
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void spin(unsigned long n)
{
	volatile unsigned long sum = 0;

	while (n)
		sum += n--;
}

int main(int argc, char **argv)
{
	unsigned long n;
	int k;

	if (argc < 2) {
		fprintf(stderr, "usage: cpuloop N [K]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	k = argc > 2 ? atoi(argv[2]) : 1;
	for (int i = 1; i < k; i++)
		if (fork() == 0) {
			spin(n);
			return 0;
		}
	spin(n);
	while (wait(NULL) > 0)
		;
	return 0;
}
