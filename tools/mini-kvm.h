/* SPDX-License-Identifier: MIT */
/*
 * What the mini-kvm command's two halves share: the guests, and the
 * console (tools/mini-kvm-console.c) that carries their output and input.
 */
#ifndef MINI_KVM_TOOL_H
#define MINI_KVM_TOOL_H

#include <pthread.h>

#include "mini-kvm/kvm.h"

#define MAX_GUESTS 4 /* isolated guests at once, one VM each */
#define OUT_LINE_MAX 4096

struct guest {
	const char *arg; /* as given on the command line */
	char name[32]; /* short and unique: the line prefix */
	const uint8_t *image;
	size_t len;
	bool real;
	bool is_linux; /* a bzImage: lib/boot/bzimage.c loads it, with ACPI and the PC's ports */
	uint64_t mem;
	struct vm *vm;
	struct vcpu *vcpu; /* vCPU 0; after the run, the one that ended the VM */
	int ender; /* atomic: the id of that vCPU, or -1 */
	pthread_t thread;
	bool started;
	bool has_stdin;
	enum vcpu_result result;
	const char *color;
	char out[OUT_LINE_MAX]; /* the line being built, under console_lock() */
	size_t out_len;
	unsigned char held; /* a byte kept back until the next one says what it is */
	uint64_t dropped; /* atomic: bytes stdout could not take in time */
	bool log_bol; /* the --verbose log is at the start of a line */
	char error[256]; /* why it could not start */
};

extern struct guest guests[MAX_GUESTS];
extern int nr_guests;

/* A Linux guest's command line when --append gives none (docs/linux.md). */
#define LINUX_DEFAULT_CMDLINE "console=ttyS0 reboot=k,cold,panic_warm panic=-1 pci=off"

/* What the options ask of each protected-mode guest's machine. */
struct machine {
	int smp; /* vCPUs per VM */
	const char *append; /* the kernel's command line after its name, or NULL */
	const char *initrd_path; /* the multiboot module, or NULL */
	uint8_t *initrd;
	size_t initrd_len;
	bool debug_exit, pc_testdev; /* --device= */
	bool has_cpu_model; /* --cpu= */
	struct cpu_model cpu_model;
	bool no_pit; /* --no-pit */
};
extern struct machine machine;

/* tools/mini-kvm-machine.c */
struct linux_boot linux_boot_of(const struct guest *g);
int machine_setup(struct guest *g, char *err, size_t errlen);
enum vcpu_result machine_run(struct guest *g, unsigned int timeout_ms);

/* tools/mini-kvm-trace.c: --trace=FILE, and --stats' time per exit reason */
extern const char *const hypercall_names[HC_NR_FUNCTIONS + 1];
int trace_open(const char *path, uint64_t origin_ns, char *err, size_t errlen);
int timing_attach(struct guest *g);
void trace_finish(void);
void print_exit_times(const struct guest *g);

/* tools/mini-kvm-gdb.c: --gdb=PORT|PATH, a gdb remote stub */
int gdb_listen(const char *where, char *err, size_t errlen);
void gdb_wait_client(int kvm_fd, bool real_mode, int nr_vcpus);
void gdb_start(void);
bool gdb_enabled(void);
bool gdb_killed(void);
bool gdb_vcpu_start(struct vcpu *vcpu);
bool gdb_vcpu_stop(struct vcpu *vcpu);
bool gdb_vcpu_park_in_wait(struct vcpu *vcpu);
void gdb_guest_ended(struct guest *g);
/*
 * tools/mini-kvm-seccomp.c: the system-call allow-list, on every thread.
 * A forbidden call prints its name, runs hook (async-signal-safe, or NULL)
 * and exits with MINI_KVM_EXIT_SECCOMP. Returns 0 or -errno (and err).
 */
#define SECCOMP_WITH_GDB (1u << 0) /* the gdb stub's socket calls too */
int seccomp_install(unsigned int flags, void (*hook)(void), char *err, size_t errlen);

/* tools/mini-kvm-console.c */
void console_setup(bool prefix_lines, bool raw);
void guest_write(void *opaque, struct vcpu *vcpu, const void *data, size_t len);
int guest_getc(void *opaque, struct vcpu *vcpu, bool wait);
FILE *guest_log(struct guest *g);
/* Held around guest_output_end() and anything that must not split a line. */
void console_lock(void);
void console_unlock(void);
void guest_output_end(struct guest *g, struct vcpu *vcpu);
void flush_all(void);
void term_raw(bool keys_to_guest);
void console_start_input(struct guest *g);
void term_restore(void);

#endif /* MINI_KVM_TOOL_H */
