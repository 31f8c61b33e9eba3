/* SPDX-License-Identifier: MIT */
/*
 * libminikvm: a small VMM library on the Linux KVM API.
 *
 * The flow: kvm_open() -> vm_create() -> vm_add_memory() -> load an image
 * -> vcpu_add() -> set a CPU mode -> vcpu_run(). One struct vm per guest
 * that must be isolated; one struct vcpu per thread. Or, in one call,
 * vm_create_with_one_vcpu().
 *
 * One error convention, the Linux KVM selftests': foo() reports what
 * failed and exits with MINI_KVM_EXIT_CANNOT_START; __foo() returns 0 or
 * -errno and leaves the decision to the caller. A __foo() that makes more
 * than one call says in vm->error which one failed ("KVM_SET_TSS_ADDR
 * failed: ..."), so that no message has to guess.
 *
 * The devices behind port I/O and MMIO live on the VM's bus
 * (mini-kvm/device.h), one file each in lib/devices/.
 */
#ifndef MINI_KVM_KVM_H
#define MINI_KVM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
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
/* 128 + SIGSYS: the command's seccomp filter stopped a system call it forbids. */
#define MINI_KVM_EXIT_SECCOMP 159

#define VM_MAX_MEM_SLOTS 4
#define VM_MAX_VCPUS 8
#define VM_MAX_DEVICES 16
#define VCPU_EXIT_REASONS 64
/* Signal used to kick a vCPU thread out of KVM_RUN (time limit, stop). */
#define VCPU_KICK_SIGNAL SIGUSR1

/*
 * Where a VM's console goes: HC_PUTCHAR/HC_WRITE and the COM1 UART write
 * through write(); HC_GETCHAR and COM1 read through getc(), which returns
 * a byte, CONSOLE_EOF at end of input, or CONSOLE_EMPTY when wait is false
 * and no byte is ready. Both get the vCPU that asked: a callback that
 * must wait does so with vcpu_wait_fd(), which the time limit and a stop
 * cut short (it then returns CONSOLE_EOF; the guest does not run again).
 */
#define CONSOLE_EOF (-1)
#define CONSOLE_EMPTY (-2)
struct vcpu;
struct console_ops {
	void (*write)(void *opaque, struct vcpu *vcpu, const void *buf, size_t len);
	int (*getc)(void *opaque, struct vcpu *vcpu, bool wait);
	void *opaque;
};

/* The console as devices see it: the callbacks plus one byte read ahead. */
struct console {
	struct console_ops ops;
	pthread_mutex_t lock;
	int pending; /* read ahead to answer "is input waiting?", or CONSOLE_EMPTY */
};

struct vm_mem {
	uint64_t gpa;
	uint64_t size;
	uint8_t *host;
};

struct device;
/* One address space of the bus: port I/O or MMIO. */
struct bus {
	int nr;
	struct device *devices[VM_MAX_DEVICES];
};

struct vm {
	int kvm_fd;
	int fd;
	size_t run_size;
	bool has_sync_regs;
	bool has_irqchip;
	bool has_pit; /* the in-kernel i8254, with the irqchip unless left out */
	bool empty_bus_fatal; /* unbacked I/O and MMIO end the guest */
	FILE *log; /* when set, every exit is decoded here (--verbose) */
	int nr_mem;
	struct vm_mem mem[VM_MAX_MEM_SLOTS];
	struct bus pio, mmio;
	struct console console;
	int nr_vcpus;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	const struct cpu_model *cpu_model; /* what the vCPUs' CPUID changes, or NULL */
	char error[160]; /* what the last failing __vm_*() or __vcpu_*() call did */
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
	VCPU_SYNC, /* HC_SYNC: the guest reached a stage; vcpu_run() again resumes it */
	VCPU_DEBUG, /* the debugger's turn: KVM_EXIT_DEBUG, or vcpu_pause() (vcpu->paused
		       says which); vcpu_run() again resumes it */
	VCPU_NR_RESULTS,
};

struct vcpu {
	struct vm *vm;
	int id;
	int fd;
	struct kvm_run *run;

	/* Owned by the run loop: the time limit and the stop request. */
	pthread_t thread;
	bool thread_set;
	int stop; /* atomic: set by vcpu_kick() */
	int pause; /* atomic: set by vcpu_pause(), taken by the run loop */
	bool paused; /* VCPU_DEBUG came from vcpu_pause(), not KVM_EXIT_DEBUG */
	bool debugging; /* KVM_SET_GUEST_DEBUG enabled: KVM_EXIT_DEBUG is no crash */
	uint64_t deadline_ns; /* 0: none */
	sigset_t run_sigmask; /* the kick unblocked: inside KVM_RUN and waits */

	int exit_status; /* from HC_EXIT */
	uint32_t sync_stage; /* from HC_SYNC */
	char why[128]; /* what ended the guest, for VCPU_CRASHED and friends */
	int nr_reports;
	uint32_t reports[HC_REPORT_MAX][2]; /* HC_REPORT (tag, value) */
	struct vcpu_stats stats;
	struct vcpu_timing *timing; /* NULL: exits are not timed (lib/timing.c) */
};

/* lib/kvm.c: /dev/kvm, capabilities, ioctls and error reporting. */
int __kvm_open(void);
int kvm_open(void);
const char *kvm_open_diagnosis(int err);
int kvm_check_cap(int kvm_fd, long cap);
const char *kvm_exit_reason_name(uint32_t reason);
const char *kvm_host_description(char *buf, size_t len);
void __attribute__((noreturn, format(printf, 1, 2))) kvm_die(const char *fmt, ...);
uint64_t now_ns(void);

/*
 * Every ioctl goes through these, so that a message names the request
 * from the macro itself (#cmd) and cannot name the wrong one.
 * __kvm_ioctl() returns the ioctl's result or -errno, and on failure
 * writes "NAME failed: reason" to err (which may be NULL).
 */
long __kvm_ioctl(int fd, unsigned long cmd, const char *name, void *arg, char *err, size_t errlen);
long kvm_ioctl_or_die(int fd, unsigned long cmd, const char *name, void *arg);
#define __kvm_fd_ioctl(fd, cmd, arg, err, errlen) \
	__kvm_ioctl(fd, cmd, #cmd, (void *)(arg), err, errlen)
#define __vm_ioctl(vm, cmd, arg) \
	__kvm_ioctl((vm)->fd, cmd, #cmd, (void *)(arg), (vm)->error, sizeof((vm)->error))
#define vm_ioctl(vm, cmd, arg) kvm_ioctl_or_die((vm)->fd, cmd, #cmd, (void *)(arg))
#define __vcpu_ioctl(vcpu, cmd, arg)                                         \
	__kvm_ioctl((vcpu)->fd, cmd, #cmd, (void *)(arg), (vcpu)->vm->error, \
		    sizeof((vcpu)->vm->error))
#define vcpu_ioctl(vcpu, cmd, arg) kvm_ioctl_or_die((vcpu)->fd, cmd, #cmd, (void *)(arg))

/* lib/vm.c: VMs, guest memory and the irqchip. */
int __vm_create(int kvm_fd, struct vm **vmp);
struct vm *vm_create(void);
void vm_destroy(struct vm *vm);
int __vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size);
void vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size);
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len);
int __vm_create_irqchip(struct vm *vm);
int __vm_create_irqchip_without_pit(struct vm *vm);
void vm_create_irqchip(struct vm *vm);
void vm_close_kvm(struct vm *vm); /* after set-up: no more vCPUs, no CPUID */
void vm_irq_line(struct vm *vm, uint32_t irq, int level);
void vm_set_console(struct vm *vm, const struct console_ops *ops);
void vm_kick_all(struct vm *vm);

/* What vm_create_with_one_vcpu() makes. */
enum guest_mode { GUEST_REAL, GUEST_PROTECTED };
struct guest_spec {
	uint64_t mem_size; /* guest memory at GPA 0 */
	enum guest_mode mode;
	const void *image; /* flat: copied to load_gpa; entered there. NULL: none */
	size_t len;
	uint64_t load_gpa; /* real mode: a multiple of 16 (the segment is gpa >> 4) */
	uint32_t stack; /* initial SP/ESP */
	bool irqchip; /* the in-kernel irqchip and PIT */
	bool no_pit; /* with the irqchip: no PIT (QEMU's -machine pit=off) */
	const struct cpu_model *cpu_model; /* see lib/boot/cpuid.c; NULL: the host's CPU */
	bool pc_firmware; /* and as a BIOS leaves them (lib/devices/pc_firmware.c) */
};
int __vm_create_with_one_vcpu(int kvm_fd, const struct guest_spec *spec, struct vcpu **vcpup,
			      char *err, size_t errlen);
struct vcpu *vm_create_with_one_vcpu(const struct guest_spec *spec);

/*
 * lib/boot/loader.c: guest images. The __vm_load_*() return 0 or -errno
 * (-ENOEXEC: not an image of that kind, -EFBIG: it does not fit, -EINVAL:
 * inconsistent) with the reason in vm->error. The *_check() make the same
 * checks without a VM (guest memory is mem_size bytes at 0), so that a bad
 * image is refused before /dev/kvm is opened; their reason goes to err.
 */
/* Writes the reason to err and returns -code: the boot files' one error form. */
int __attribute__((format(printf, 4, 5)))
load_error(char *err, size_t errlen, int code, const char *fmt, ...);
int __vm_load_flat(struct vm *vm, uint64_t gpa, const void *image, size_t len);
void vm_load_flat(struct vm *vm, uint64_t gpa, const void *image, size_t len);
int flat_check(uint64_t gpa, size_t len, uint64_t mem_size, char *err, size_t errlen);
bool image_is_elf(const void *image, size_t len);
int __vm_load_elf(struct vm *vm, const void *image, size_t len, uint32_t *entry);
int elf_check(const void *image, size_t len, uint64_t mem_size, char *err, size_t errlen);
bool elf_overlaps(const void *image, uint64_t gpa, uint64_t len);

/* lib/boot/multiboot.c: what a multiboot loader hands the kernel in EBX. */
#define MULTIBOOT_LOADER_MAGIC 0x2BADB002u
struct multiboot_args {
	uint64_t mem_size; /* guest memory at GPA 0 */
	const void *elf; /* the kernel's (checked) ELF image, kept clear of; or NULL */
	const char *cmdline; /* or NULL */
	const void *module; /* or NULL: no module */
	size_t module_len;
};
int __vm_write_multiboot(struct vm *vm, const struct multiboot_args *args, uint32_t *info_gpa);

/*
 * lib/boot/bzimage.c: a Linux bzImage by the x86 boot protocol, entered at its
 * 32-bit entry point. bzimage_check() makes the loader's checks without a
 * VM (guest memory is mem_size bytes at 0): -ENOEXEC a bad or truncated
 * image, -EFBIG it does not fit, -E2BIG the command line is too long.
 */
struct linux_boot {
	const void *kernel; /* the bzImage file */
	size_t kernel_len;
	const char *cmdline; /* or NULL */
	const void *initrd; /* or NULL */
	size_t initrd_len;
	uint64_t rsdp_gpa; /* ACPI's RSDP, or 0 */
};
bool image_is_bzimage(const void *image, size_t len);
int bzimage_check(const struct linux_boot *boot, uint64_t mem_size, char *err, size_t errlen);
int __vm_load_bzimage(struct vm *vm, const struct linux_boot *boot);
void vcpu_set_linux_entry(struct vcpu *vcpu);

/* lib/boot/acpi.c: RSDP, RSDT, FADT, FACS, DSDT and a MADT for nr_cpus vCPUs. */
int __vm_write_acpi(struct vm *vm, int nr_cpus, uint64_t *rsdp_gpa);

/* lib/vcpu.c: vCPUs and the run loop. */
int __vcpu_add(struct vm *vm, struct vcpu **vcpup);
struct vcpu *vcpu_add(struct vm *vm);
int __vcpu_run_once(struct vcpu *vcpu);
enum vcpu_result vcpu_run(struct vcpu *vcpu, unsigned int timeout_ms);
void vcpu_kick(struct vcpu *vcpu);
void vcpu_pause(struct vcpu *vcpu);
int __vcpu_set_guest_debug(struct vcpu *vcpu, const struct kvm_guest_debug *dbg);
const char *vcpu_result_name(enum vcpu_result result);

/*
 * lib/timing.c: where a vCPU's time goes, exit by exit. Off unless
 * __vcpu_timing_start() set vcpu->timing: the run loop then reads the
 * clock as it enters KVM_RUN (which also ends the handling of the exit
 * before) and as KVM_RUN returns, two reads per exit, and keeps per exit
 * reason the count, the time in the guest (in KVM_RUN up to the exit), the
 * time in the VMM (handling it, up to the next KVM_RUN or the return of
 * vcpu_run()) and log2 buckets of their sum. With a sink, each exit's
 * record is handed over too, TIMING_RECORDS at a time and at each return
 * of vcpu_run(), on the vCPU's own thread: vCPUs never wait for each other.
 */
#define TIMING_KICKED VCPU_EXIT_REASONS /* "reason" of a KVM_RUN cut short (-EINTR) */
#define TIMING_REASONS (VCPU_EXIT_REASONS + 1)
#define TIMING_BUCKETS 32 /* [0, 1) us, [1, 2) us, [2, 4) us, ...; the last open */
#define TIMING_RECORDS 4096

struct exit_record {
	uint64_t enter_ns; /* CLOCK_MONOTONIC: KVM_RUN entered */
	uint64_t exit_ns; /* KVM_RUN returned */
	uint64_t done_ns; /* the VMM had handled the exit */
	uint64_t addr; /* KVM_EXIT_IO: the port; KVM_EXIT_MMIO: the address */
	uint64_t value; /* IO, MMIO: the first access's data, written or read */
	uint32_t reason; /* KVM_EXIT_*, or TIMING_KICKED */
	uint32_t count; /* IO: accesses (rep ins/outs); MMIO: 1 */
	uint8_t size; /* IO: bytes per access; MMIO: its length */
	bool write; /* out, or an MMIO write */
};

struct exit_time {
	uint64_t count;
	uint64_t guest_ns, vmm_ns;
	uint64_t buckets[TIMING_BUCKETS]; /* by guest + VMM time of each exit */
};

typedef void exit_sink_fn(void *opaque, struct vcpu *vcpu, const struct exit_record *recs,
			  size_t n);

struct vcpu_timing {
	struct exit_time reasons[TIMING_REASONS];
	exit_sink_fn *sink; /* or NULL: the totals only */
	void *opaque;
	bool pending; /* records[nr - 1] is still being handled */
	size_t nr;
	struct exit_record records[TIMING_RECORDS];
};

int __vcpu_timing_start(struct vcpu *vcpu, exit_sink_fn *sink, void *opaque);
void vcpu_timing_flush(struct vcpu *vcpu);
int __vcpu_run_timed(struct vcpu *vcpu); /* __vcpu_run_once()'s KVM_RUN, timed */
unsigned int timing_bucket(uint64_t ns);

/* lib/access.c: a vCPU's registers and what its guest sees (devices use these too). */
void vcpu_regs_get(struct vcpu *vcpu, struct kvm_regs *regs);
void vcpu_regs_set(struct vcpu *vcpu, struct kvm_regs *regs);
void vcpu_sregs_get(struct vcpu *vcpu, struct kvm_sregs *sregs);
void vcpu_sregs_set(struct vcpu *vcpu, struct kvm_sregs *sregs);
int __vcpu_translate(struct vcpu *vcpu, uint64_t gva, uint64_t *gpa);
int vcpu_read_guest(struct vcpu *vcpu, uint64_t gva, void *buf, uint32_t len, bool paging);
int vcpu_write_guest(struct vcpu *vcpu, uint64_t gva, const void *buf, uint32_t len, bool paging);
int __attribute__((format(printf, 3, 4)))
vcpu_end(struct vcpu *vcpu, enum vcpu_result result, const char *fmt, ...);
bool vcpu_should_stop(struct vcpu *vcpu);
int vcpu_wait_fd(struct vcpu *vcpu, int fd, short events);

/* lib/probe.c: what this host's KVM can really run (kvm_pvm: real mode only). */
enum kvm_mode { KVM_MODE_REAL, KVM_MODE_PROTECTED, KVM_NR_MODES };
bool kvm_can_run(enum kvm_mode mode, const char **why);

/* lib/boot/cpu_mode.c: real mode, flat protected mode, GDT, PSE paging. */
void vcpu_set_real_mode(struct vcpu *vcpu, uint16_t segment, uint16_t sp);
void vcpu_reset_to_real_mode(struct vcpu *vcpu, uint16_t cs, uint16_t ip);
void vcpu_set_protected_mode(struct vcpu *vcpu, uint32_t entry, uint32_t esp);
struct kvm_segment flat_segment(uint16_t selector, uint8_t type);
uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags);
void vm_write_flat_gdt(struct vm *vm, uint64_t gpa);
void vcpu_load_gdt(struct vcpu *vcpu, uint64_t gpa, uint16_t limit);
uint32_t pse_pde(uint32_t paddr, bool user, bool writable);
void pse_map(uint32_t *page_dir, uint32_t vaddr, uint32_t paddr, uint32_t size, bool user,
	     bool writable);
void vcpu_enable_pse_paging(struct vcpu *vcpu, uint32_t page_dir_gpa);

/*
 * lib/boot/cpuid.c: the CPU that vCPUs report, KVM's supported set. A model
 * (QEMU's -cpu syntax: "max,-pcid,+x2apic,vendor=GenuineIntel") takes
 * features away and may change the vendor; a feature it turns on that KVM
 * lacks stays off (__kvm_cpu_model_missing() names them).
 */
#define CPU_VENDOR_LEN 12
struct cpu_model {
	uint32_t add, remove; /* bits: lib/boot/cpuid.c's table of features */
	char vendor[CPU_VENDOR_LEN + 1]; /* "": the host's */
};
int cpu_model_parse(struct cpu_model *model, const char *spec, char *err, size_t errlen);
int __kvm_cpu_model_missing(int kvm_fd, const struct cpu_model *model, char *buf, size_t len);
int __vcpu_set_cpuid(struct vcpu *vcpu);

/* lib/dump.c: what a crashed guest looked like. */
void vcpu_dump(struct vcpu *vcpu, FILE *out);
const char *vcpu_crash_hint(struct vcpu *vcpu);

#endif /* MINI_KVM_KVM_H */
