/* SPDX-License-Identifier: MIT */
/*
 * kernel_main: boot.S arrives here on the boot stack, paging on, the
 * kernel mapped high. Set up the machine, start the shell, go idle.
 */
#include "kernel.h"

void kernel_main(void)
{
	console_init();
	trap_init();
	memory_init();
	proc_init();
	timer_init();

	kprintf("os1k: booted, %u KiB of RAM in use, timer at %u Hz\n",
		RAM_SIZE >> 10, TIMER_HZ);
	if (proc_spawn(0) != 1)
		panic("cannot start the shell");
	idle_loop();
}
