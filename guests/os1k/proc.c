/* SPDX-License-Identifier: MIT */
/*
 * Processes and the scheduler. One CPU, and the kernel runs with
 * interrupts off (every gate is an interrupt gate), so nothing here needs
 * a lock: a process gives up the CPU only in yield(), called when it
 * sleeps, waits, exits, or when the timer preempts it in ring 3.
 *
 * Slot 0 is the idle process: the boot stack and the kernel's page
 * directory. It runs only when nobody else can, and halts until the next
 * interrupt.
 */
#include "kernel.h"
#include "x86.h"

#define NPROC 8

enum proc_state { UNUSED, RUNNABLE, SLEEPING, WAITING, ZOMBIE };

struct proc {
	int pid;
	enum proc_state state;
	u32 saved_sp;		/* kernel stack pointer while switched out */
	u8 *kstack;		/* one page; traps from ring 3 land on top */
	u32 *pgdir;
	struct proc *parent;
	u32 wake_tick;		/* SLEEPING: until ticks reach this */
	int exit_status;	/* ZOMBIE: for the parent's wait */
};

static struct proc procs[NPROC];
static struct proc *current = &procs[0];
static int next_pid = 1;

void proc_init(void)
{
	procs[0].state = RUNNABLE;
	procs[0].pgdir = kernel_pgdir;
}

int current_pid(void)
{
	return current->pid;
}

u32 *current_pgdir(void)
{
	return current->pgdir;
}

static void free_proc(struct proc *p)
{
	if (p->pgdir)
		free_user_memory(p->pgdir);
	if (p->kstack)
		free_page(p->kstack);
	memset(p, 0, sizeof(*p));
}

/* Copy the program image to fresh pages at USER_BASE, and add a stack. */
static int load_user_image(u32 *pgdir)
{
	u32 size = user_image_end - user_image_start;
	u32 off, va;
	u8 *page;

	for (off = 0; off < size; off += PAGE_SIZE) {
		page = alloc_page();
		if (!page)
			return -1;
		/* One rep movsl; user_image.S pads the image to 4 bytes. */
		copy_words(page, user_image_start + off,
			   (size - off < PAGE_SIZE ? size - off : PAGE_SIZE) / 4);
		if (map_page(pgdir, USER_BASE + off, V2P(page), PTE_U | PTE_W))
			return free_page(page), -1;
	}
	for (va = USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE;
	     va < USER_STACK_TOP; va += PAGE_SIZE) {
		page = alloc_page();
		if (!page)
			return -1;
		if (map_page(pgdir, va, V2P(page), PTE_U | PTE_W))
			return free_page(page), -1;
	}
	return 0;
}

/*
 * Make the new process's kernel stack look as if it had trapped from ring
 * 3 and then called switch_context: the first switch to it "returns" to
 * trap_return, which irets to USER_BASE with EAX = entry. The image's
 * start code (crt0.S) runs the program at entry (0: the shell).
 */
static void build_first_frame(struct proc *p, u32 entry)
{
	u32 *sp = (u32 *)(p->kstack + PAGE_SIZE);
	struct trapframe *tf = (struct trapframe *)sp - 1;

	memset(tf, 0, sizeof(*tf));
	tf->ds = tf->es = tf->fs = tf->gs = SEL_UDATA;
	tf->cs = SEL_UCODE;
	tf->user_ss = SEL_UDATA;
	tf->eip = USER_BASE;
	tf->eflags = 0x202;		/* IF: the timer reaches ring 3 */
	tf->user_esp = USER_STACK_TOP;
	tf->eax = entry;

	sp = (u32 *)tf;
	*--sp = (u32)trap_return;	/* switch_context's ret */
	*--sp = 0;			/* ebp */
	*--sp = 0;			/* ebx */
	*--sp = 0;			/* esi */
	*--sp = 0;			/* edi */
	p->saved_sp = (u32)sp;
}

/* Start a process running the image's program at entry; -1 if we can't. */
int proc_spawn(u32 entry)
{
	u32 size = user_image_end - user_image_start;
	struct proc *p = NULL;
	int i;

	if (entry && (entry < USER_BASE || entry >= USER_BASE + size))
		return -1;
	for (i = 1; i < NPROC && !p; i++)
		if (procs[i].state == UNUSED)
			p = &procs[i];
	if (!p)
		return -1;
	p->kstack = alloc_page();
	p->pgdir = new_page_directory();
	if (!p->kstack || !p->pgdir || load_user_image(p->pgdir)) {
		free_proc(p);
		return -1;
	}
	build_first_frame(p, entry);
	p->pid = next_pid++;
	p->parent = current;
	p->state = RUNNABLE;
	return p->pid;
}

/* Round robin: the next runnable process after current, else idle. */
static struct proc *pick_next(void)
{
	int start = current - procs;
	int i;

	for (i = 1; i <= NPROC; i++) {
		struct proc *p = &procs[(start + i) % NPROC];

		if (p != &procs[0] && p->state == RUNNABLE)
			return p;
	}
	return &procs[0];
}

void yield(void)
{
	struct proc *prev = current;
	struct proc *next = pick_next();

	if (next == prev)
		return;
	current = next;
	if (next->kstack)
		tss_set_kernel_stack((u32)next->kstack + PAGE_SIZE);
	write_cr3(V2P(next->pgdir));
	switch_context(&prev->saved_sp, next->saved_sp);
}

void proc_sleep(u32 nticks)
{
	current->wake_tick = ticks_now() + nticks;
	current->state = SLEEPING;
	yield();
}

void proc_wakeup_sleepers(u32 now)
{
	int i;

	for (i = 1; i < NPROC; i++)
		if (procs[i].state == SLEEPING &&
		    (s32)(now - procs[i].wake_tick) >= 0)
			procs[i].state = RUNNABLE;
}

/*
 * The first process (the shell) ending means the system is done: power
 * off with its status. Otherwise wait for the parent to collect us; our
 * pages are freed then, once we are no longer running on them.
 */
void proc_exit(int status)
{
	struct proc *parent = current->parent;
	int i;

	if (current->pid == 1)
		power_off(status);
	/*
	 * Children we did not wait for: nobody will now. Free those that
	 * are done; the others keep their slot as zombies when they end.
	 */
	for (i = 1; i < NPROC; i++) {
		if (procs[i].parent != current)
			continue;
		procs[i].parent = NULL;
		if (procs[i].state == ZOMBIE)
			free_proc(&procs[i]);
	}
	current->exit_status = status;
	current->state = ZOMBIE;
	if (parent && parent->state == WAITING)
		parent->state = RUNNABLE;
	yield();
	panic("zombie pid %d ran again", current->pid);
}

int proc_wait(int pid)
{
	struct proc *child = NULL;
	int i, status;

	for (i = 1; i < NPROC; i++)
		if (procs[i].state != UNUSED && procs[i].pid == pid &&
		    procs[i].parent == current)
			child = &procs[i];
	if (!child)
		return -1;
	while (child->state != ZOMBIE) {
		current->state = WAITING;
		yield();
	}
	status = child->exit_status;
	free_proc(child);
	return status;
}

/* What the boot CPU does once the shell is started: run others, or halt. */
void idle_loop(void)
{
	for (;;) {
		yield();
		/* sti takes effect after hlt starts: no tick slips between. */
		__asm__ volatile("sti; hlt; cli");
	}
}
