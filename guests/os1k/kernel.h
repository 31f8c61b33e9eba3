/* SPDX-License-Identifier: MIT */
/*
 * os1k kernel: shared types, memory layout and the functions each kernel
 * file offers the others. Read this file first.
 */
#ifndef OS1K_KERNEL_H
#define OS1K_KERNEL_H

#include "common.h"

/*
 * Memory layout.
 *
 * Physical: the kernel is loaded at 1 MiB; everything from the end of its
 * image up to RAM_SIZE is a pool of 4 KiB pages (page tables, kernel
 * stacks, user memory). We use 8 MiB of RAM whatever the machine has, so
 * we need nothing from the boot loader.
 *
 * Virtual, in every address space: KERNEL_BASE + x maps physical x for
 * x < RAM_SIZE, with 4 MiB (PSE) pages and the U bit clear. The low 2 GiB
 * belong to the running process: its program image at USER_BASE, its
 * stack just below USER_STACK_TOP, and nothing else (so NULL faults).
 */
#define KERNEL_BASE	0x80000000u
#define RAM_SIZE	(8u << 20)
#define PAGE_SIZE	4096u
#define BIG_PAGE_SIZE	(4u << 20)

#define P2V(pa)		((void *)((u32)(pa) + KERNEL_BASE))
#define V2P(va)		((u32)(va) - KERNEL_BASE)

/* Page directory / page table entry bits. */
#define PTE_P		0x001	/* present */
#define PTE_W		0x002	/* writable */
#define PTE_U		0x004	/* user may access */
#define PTE_PS		0x080	/* 4 MiB page (in a PDE, with CR4.PSE) */

/* Segment selectors; the GDT is built in trap.c in this order. */
#define SEL_KCODE	0x08
#define SEL_KDATA	0x10
#define SEL_UCODE	(0x18 | 3)
#define SEL_UDATA	(0x20 | 3)
#define SEL_TSS		0x28

#define TIMER_HZ	100
#define PANIC_STATUS	1	/* exit status after a kernel panic */

/*
 * What the trap entry code (trap_entry.S) pushes, lowest address first:
 * the general registers (pusha), the data segments, the vector and error
 * code, and what the CPU pushed. user_esp and user_ss exist only for traps
 * from ring 3.
 */
struct trapframe {
	u32 edi, esi, ebp, unused_esp, ebx, edx, ecx, eax;
	u32 gs, fs, es, ds;
	u32 vector, error;
	u32 eip, cs, eflags;
	u32 user_esp, user_ss;
};

/* console.c: mini-kvm hypercalls or COM1, and power-off. */
void console_init(void);
int console_is_minikvm(void);
void console_putc(char c);
void console_write(const char *buf, u32 len);
int console_getc(int *c);
void power_off(int status) __attribute__((noreturn));
void kprintf(const char *fmt, ...);
void panic(const char *fmt, ...) __attribute__((noreturn));

/* trap.c: GDT, TSS, IDT, PIC, PIT and the C side of every trap. */
void trap_init(void);
void timer_init(void);
void tss_set_kernel_stack(u32 esp0);
u32 ticks_now(void);

/* memory.c: the page pool and page tables. */
void memory_init(void);
void *alloc_page(void);
void free_page(void *page);
u32 *new_page_directory(void);
int map_page(u32 *pgdir, u32 va, u32 pa, u32 flags);
void free_user_memory(u32 *pgdir);
int user_range_ok(u32 *pgdir, u32 va, u32 len);
extern u32 kernel_pgdir[1024];

/* proc.c: processes and the scheduler. */
void proc_init(void);
int proc_spawn(u32 entry);
int proc_wait(int pid);
void proc_exit(int status) __attribute__((noreturn));
void proc_sleep(u32 nticks);
void proc_wakeup_sleepers(u32 now);
void yield(void);
void idle_loop(void) __attribute__((noreturn));
int current_pid(void);
u32 *current_pgdir(void);

/* syscall.c */
void syscall(struct trapframe *tf);

/* trap_entry.S */
extern u32 trap_vectors[];
void syscall_vector(void);
void trap_return(void);
void switch_context(u32 *save_sp, u32 new_sp);
int kernel_fault_test(void);

/* The ring-3 programs' image, built separately and embedded (user_image.S). */
extern const u8 user_image_start[], user_image_end[];
#define USER_BASE	0x00400000u	/* the image is mapped here */
#define USER_STACK_TOP	0x00800000u	/* stack grows down from here */
#define USER_STACK_PAGES 2

#endif /* OS1K_KERNEL_H */
