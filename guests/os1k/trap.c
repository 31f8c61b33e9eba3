/* SPDX-License-Identifier: MIT */
/*
 * Descriptor tables, the interrupt controllers, and what happens on a
 * trap: exceptions (kill the user process, or panic if the kernel did
 * it), the timer tick, and system calls.
 */
#include "kernel.h"
#include "x86.h"

struct tss {
	u32 link, esp0, ss0, esp1, ss1, esp2, ss2;
	u32 cr3, eip, eflags, eax, ecx, edx, ebx, esp, ebp, esi, edi;
	u32 es, cs, ss, ds, fs, gs, ldt;
	u16 trap, iomap_base;
} __attribute__((packed));

struct gate {
	u16 offset_low, selector;
	u8 zero, type;
	u16 offset_high;
} __attribute__((packed));

struct table_pointer {
	u16 limit;
	u32 base;
} __attribute__((packed));

static u32 gdt[6][2];
static struct tss tss;
static struct gate idt[256];
static volatile u32 ticks;

static const char *const exception_names[32] = {
	"divide error", "debug", "NMI", "breakpoint", "overflow",
	"bound range exceeded", "invalid opcode", "device not available",
	"double fault", "coprocessor segment overrun", "invalid TSS",
	"segment not present", "stack-segment fault",
	"general protection fault", "page fault", "reserved",
	"x87 floating-point error", "alignment check", "machine check",
	"SIMD floating-point error", "virtualization exception",
	"control protection exception", "reserved", "reserved", "reserved",
	"reserved", "reserved", "reserved", "hypervisor injection",
	"VMM communication", "security exception", "reserved",
};

/* access: present, DPL, type; flags: 4 KiB granularity, 32-bit. */
static void set_segment(int i, u32 base, u32 limit, u8 access, u8 flags)
{
	gdt[i][0] = (limit & 0xffff) | (base << 16);
	gdt[i][1] = ((base >> 16) & 0xff) | ((u32)access << 8) |
		    (limit & 0xf0000) | ((u32)flags << 20) |
		    (base & 0xff000000);
}

static void gdt_init(void)
{
	struct table_pointer p = { sizeof(gdt) - 1, (u32)gdt };

	set_segment(1, 0, 0xfffff, 0x9a, 0xc);	/* kernel code */
	set_segment(2, 0, 0xfffff, 0x92, 0xc);	/* kernel data */
	set_segment(3, 0, 0xfffff, 0xfa, 0xc);	/* user code, DPL 3 */
	set_segment(4, 0, 0xfffff, 0xf2, 0xc);	/* user data, DPL 3 */
	set_segment(5, (u32)&tss, sizeof(tss) - 1, 0x89, 0x0); /* TSS */

	/*
	 * Traps from ring 3 switch to ss0:esp0. An I/O bitmap offset past
	 * the TSS limit means no port is open to ring 3 (IOPL is 0 too).
	 */
	tss.ss0 = SEL_KDATA;
	tss.iomap_base = sizeof(tss);

	__asm__ volatile("lgdt %0\n\t"
			 "ljmp %1, $1f\n"
			 "1:\tmovw %w2, %%ds\n\t"
			 "movw %w2, %%es\n\t"
			 "movw %w2, %%fs\n\t"
			 "movw %w2, %%gs\n\t"
			 "movw %w2, %%ss\n\t"
			 "ltr %w3"
			 : : "m"(p), "i"(SEL_KCODE), "r"(SEL_KDATA),
			     "r"(SEL_TSS) : "memory");
}

void tss_set_kernel_stack(u32 esp0)
{
	tss.esp0 = esp0;
}

/* Interrupt gates (not trap gates): the kernel runs with IF clear. */
static void set_gate(int vector, void (*handler)(void), int dpl)
{
	u32 a = (u32)handler;

	idt[vector].offset_low = a & 0xffff;
	idt[vector].selector = SEL_KCODE;
	idt[vector].zero = 0;
	idt[vector].type = 0x8e | (dpl << 5);
	idt[vector].offset_high = a >> 16;
}

static void idt_init(void)
{
	struct table_pointer p = { sizeof(idt) - 1, (u32)idt };
	int i;

	for (i = 0; i < 48; i++)
		set_gate(i, (void (*)(void))trap_vectors[i], 0);
	/* The only gate ring 3 may use with `int`. */
	set_gate(0x80, syscall_vector, 3);
	__asm__ volatile("lidt %0" : : "m"(p));
}

/*
 * The 8259 pair: IRQ 0-15 at vectors 0x20-0x2f (the defaults collide with
 * exceptions), only IRQ 0 (the PIT) unmasked.
 */
static void pic_init(void)
{
	outb(0x20, 0x11);	/* ICW1: edge, cascade, ICW4 follows */
	outb(0xa0, 0x11);
	outb(0x21, 0x20);	/* ICW2: vector base */
	outb(0xa1, 0x28);
	outb(0x21, 0x04);	/* ICW3: slave on IRQ 2 */
	outb(0xa1, 0x02);
	outb(0x21, 0x01);	/* ICW4: 8086 mode */
	outb(0xa1, 0x01);
	outb(0x21, 0xfe);	/* masks: only IRQ 0 */
	outb(0xa1, 0xff);
}

void trap_init(void)
{
	gdt_init();
	idt_init();
	pic_init();
}

/* PIT channel 0, mode 2 (rate generator), TIMER_HZ interrupts a second. */
void timer_init(void)
{
	u32 divisor = (1193182 + TIMER_HZ / 2) / TIMER_HZ;

	outb(0x43, 0x34);
	outb(0x40, divisor & 0xff);
	outb(0x40, divisor >> 8);
}

u32 ticks_now(void)
{
	return ticks;
}

static int from_user(struct trapframe *tf)
{
	return (tf->cs & 3) == 3;
}

static void exception(struct trapframe *tf)
{
	const char *name = exception_names[tf->vector];

	if (!from_user(tf))
		panic("kernel fault: %s (vector %u), error 0x%x, eip 0x%08x, "
		      "cr2 0x%08x", name, tf->vector, tf->error, tf->eip,
		      read_cr2());
	/* The user program did it: one line, then the shell carries on. */
	if (tf->vector == 14)
		kprintf("os1k: killed pid %d: %s (vector %u) at eip 0x%08x, "
			"address 0x%08x\n", current_pid(), name, tf->vector,
			tf->eip, read_cr2());
	else
		kprintf("os1k: killed pid %d: %s (vector %u) at eip 0x%08x, "
			"error 0x%x\n", current_pid(), name, tf->vector,
			tf->eip, tf->error);
	proc_exit(-1);
}

static void timer_tick(struct trapframe *tf)
{
	ticks++;
	outb(0x20, 0x20);	/* EOI, so the next tick can come */
	proc_wakeup_sleepers(ticks);
	/*
	 * Preempt a running program. The kernel itself is never
	 * interrupted except in the idle loop, which yields on its own.
	 */
	if (from_user(tf))
		yield();
}

void trap(struct trapframe *tf)
{
	if (tf->vector < 32)
		exception(tf);
	else if (tf->vector == 0x20)
		timer_tick(tf);
	else if (tf->vector == 0x80)
		syscall(tf);
	else if (tf->vector == 0x2f)
		outb(0x20, 0x20);	/* slave spurious: the master needs EOI */
	/* Other IRQs are masked; IRQ 7 is the master's spurious one. */
}
