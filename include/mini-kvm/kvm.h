/* SPDX-License-Identifier: MIT */
/*
 * libminikvm: a small VMM library on the Linux KVM API.
 *
 * The flow: kvm_open() -> vm_create() -> vm_add_memory() -> load an image
 * -> vcpu_add() -> set a CPU mode -> vcpu_run(). One struct vm per guest
 * that must be isolated; one struct vcpu per thread.
 *
 * Naming follows the Linux KVM selftests: foo() reports the failing ioctl
 * with its errno and exits with MINI_KVM_EXIT_CANNOT_START, __foo() returns
 * -errno (or NULL) and leaves the decision to the caller.
 */
#ifndef MINI_KVM_KVM_H
#define MINI_KVM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "abi.h"

/* Process exit statuses shared by the mini-kvm command and the library. */
#define MINI_KVM_EXIT_USAGE 2
#define MINI_KVM_EXIT_TIMEOUT 124
#define MINI_KVM_EXIT_CRASH 125
#define MINI_KVM_EXIT_CANNOT_START 126

#define VM_MAX_MEM_SLOTS 4
#define VM_MAX_VCPUS 4
#define VCPU_EXIT_REASONS 64
/* Signal used to kick a vCPU thread out of KVM_RUN (time limit, stop). */
#define VCPU_KICK_SIGNAL SIGUSR1

struct vm_mem {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct vm {
	int kvm_fd;
	int fd;
	size_t run_size;
	bool has_sync_regs;
	bool has_irqchip;
	int nr_mem;
	struct vm_mem mem[VM_MAX_MEM_SLOTS];
	int nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
};

/*
 * Where a vCPU's console goes: HC_PUTCHAR/HC_WRITE and the COM1 UART
 * write through write(); HC_GETCHAR and COM1 read through getc(), which
 * returns a byte, CONSOLE_EOF at end of input, or CONSOLE_EMPTY when
 * wait is false and no byte is ready.
 */
#define CONSOLE_EOF (-1)
#define CONSOLE_EMPTY (-2)
struct console {
	void (*write)(void *opaque, const void *buf, size_t len);
	int (*getc)(void *opaque, bool wait);
	void *opaque;
};

/* The minimal 16550 at COM1 (lib/uart.c). */
struct uart {
	uint8_t ier, lcr, mcr, scr, dll, dlm;
	int pending; /* a byte read ahead for LSR.DR, or CONSOLE_EMPTY */
};

struct vcpu_stats {
	uint64_t exits[VCPU_EXIT_REASONS];
	uint64_t hypercalls[HC_NR_FUNCTIONS + 1]; /* last: unknown numbers */
	uint64_t empty_bus; /* I/O or MMIO with no device behind it */
	uint64_t first_run_ns; /* CLOCK_MONOTONIC of the first KVM_RUN */
	uint64_t end_ns;
};

/* Why vcpu_run() returned. */
enum vcpu_result {
	VCPU_CONTINUE = -1, /* internal to the run loop: not an end */
	VCPU_HALTED, /* hlt without an irqchip: a real-mode guest's end */
	VCPU_EXITED, /* HC_EXIT; the status is in vcpu->exit_status */
	VCPU_TIMEOUT, /* the time limit passed */
	VCPU_STOPPED, /* vcpu_kick() from another thread */
	VCPU_CRASHED, /* triple fault, internal error, failed entry, ... */
	VCPU_BAD_HYPERCALL, /* a hypercall the ABI cannot answer in EAX */
};

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	struct console console;
	struct uart uart;
	FILE *log; /* when set, every exit is decoded here (--verbose) */
	bool empty_bus_fatal; /* unbacked I/O and MMIO end the guest */

	pthread_t thread;
	volatile int stop; /* set by vcpu_kick() */

	int exit_status; /* from HC_EXIT */
	char why[128]; /* what ended the guest, for VCPU_CRASHED and friends */
	int nr_reports;
	uint32_t reports[HC_REPORT_MAX][2]; /* HC_REPORT (tag, value) */
	struct vcpu_stats stats;
};

/* lib/kvm.c: /dev/kvm, capabilities, error reporting. */
int __kvm_open(void);
int kvm_open(void);
const char *kvm_open_diagnosis(int err);
int kvm_check_cap(int kvm_fd, long cap);
const char *kvm_exit_reason_name(uint32_t reason);
const char *kvm_host_description(char *buf, size_t len);
void __attribute__((noreturn, format(printf, 1, 2))) kvm_die(const char *fmt, ...);
void __attribute__((noreturn)) kvm_die_ioctl(const char *ioctl_name, int err);
uint64_t now_ns(void);

/* lib/vm.c: VMs, guest memory and the irqchip. */
struct vm *__vm_create(int kvm_fd, int *err);
struct vm *vm_create(void);
void vm_destroy(struct vm *vm);
int __vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size);
void vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size);
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);
int __vm_create_irqchip(struct vm *vm);
void vm_create_irqchip(struct vm *vm);
void vm_irq_line(struct vm *vm, uint32_t irq, int level);

/* lib/loader.c: guest images. Errors are one line in err. */
int vm_load_flat(struct vm *vm, uint64_t gpa, const void *image, size_t len, char *err,
		 size_t errlen);
/* vm_load_flat()'s checks without a VM: guest memory is mem_size bytes at 0. */
int flat_check(uint64_t gpa, size_t len, uint64_t mem_size, char *err, size_t errlen);
bool image_is_elf(const void *image, size_t len);
int vm_load_elf(struct vm *vm, const void *image, size_t len, uint32_t *entry, char *err,
		size_t errlen);
/* vm_load_elf()'s checks without a VM: guest memory is mem_size bytes at 0. */
int elf_check(const void *image, size_t len, uint64_t mem_size, char *err, size_t errlen);

/* lib/vcpu.c: vCPUs, registers and the run loop. */
struct vcpu *__vcpu_add(struct vm *vm, int *err);
struct vcpu *vcpu_add(struct vm *vm);
void vcpu_regs_get(struct vcpu *vcpu, struct kvm_regs *regs);
void vcpu_regs_set(struct vcpu *vcpu, struct kvm_regs *regs);
void vcpu_sregs_get(struct vcpu *vcpu, struct kvm_sregs *sregs);
void vcpu_sregs_set(struct vcpu *vcpu, struct kvm_sregs *sregs);
int __vcpu_run_once(struct vcpu *vcpu);
enum vcpu_result vcpu_run(struct vcpu *vcpu, unsigned int timeout_ms);
void vcpu_kick(struct vcpu *vcpu);
const char *vcpu_result_name(enum vcpu_result result);

/* lib/cpu_mode.c: real mode, flat protected mode, GDT and PSE paging. */
void vcpu_set_real_mode(struct vcpu *vcpu, uint16_t segment, uint16_t sp);
void vcpu_set_protected_mode(struct vcpu *vcpu, uint32_t entry, uint32_t esp);
uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void vm_write_flat_gdt(struct vm *vm, uint64_t gpa);
void vcpu_load_gdt(struct vcpu *vcpu, uint64_t gpa, uint16_t limit);
uint32_t pse_pde(uint32_t paddr, bool user, bool writable);
void pse_map(uint32_t *page_dir, uint32_t vaddr, uint32_t paddr, uint32_t size, bool user,
	     bool writable);
void vcpu_enable_pse_paging(struct vcpu *vcpu, uint32_t page_dir_gpa);
int vcpu_set_cpuid(struct vcpu *vcpu);

/* lib/hypercall.c and lib/uart.c: the devices behind port I/O. */
int hypercall_dispatch(struct vcpu *vcpu);
uint32_t hypercall_write(struct vcpu *vcpu, uint32_t addr, uint32_t len);
void uart_reset(struct uart *uart);
void uart_io(struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data);

/* lib/dump.c: what a crashed guest looked like. */
void vcpu_dump(struct vcpu *vcpu, FILE *out);
const char *vcpu_crash_hint(struct vcpu *vcpu);

#endif /* MINI_KVM_KVM_H */
