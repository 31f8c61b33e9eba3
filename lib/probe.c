// SPDX-License-Identifier: MIT
/*
 * Can this host's KVM run a guest of a given mode? Opening /dev/kvm is not
 * enough: kvm_pvm (a software KVM on some cloud machines) runs real mode
 * but its instruction emulator stops at a protected-mode iret. So we run
 * two tiny guests, a hlt in real mode and an int/iret in protected mode,
 * once per process, and keep the answers. Tests skip on what the host
 * cannot do (TEST_REQUIRE) and fail only on what it can.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

#define PROBE_LOAD 0x1000
#define PROBE_GDT 0x500

/* IDT entry 0x30 -> handler; int $0x30; hlt. The handler only irets. */
asm(".pushsection .rodata.probe, \"a\"\n"
    "probe_iret_start:\n.code32\n"
    "	mov $0x8000, %esp\n"
    "	movl $(0x00080000 + 0x1000 + handler - probe_iret_start), 0x2000 + 0x30 * 8\n"
    "	movl $0x00008e00, 0x2000 + 0x30 * 8 + 4\n"
    "	lidt 0x1000 + idtr - probe_iret_start\n"
    "	int $0x30\n"
    "	hlt\n"
    "handler: iret\n"
    "idtr: .word 0x7ff\n .long 0x2000\n"
    ".code64\nprobe_iret_end:\n.popsection\n");
extern const uint8_t probe_iret_start[], probe_iret_end[];

struct probe {
	bool can_run[KVM_NR_MODES];
	char why[KVM_NR_MODES][400];
	char host[160];
};

/* Runs the mode's guest; true if it halted as it should. */
static bool probe_mode(int kvm_fd, enum kvm_mode mode, char *why, size_t len)
{
	static const uint8_t hlt = 0xf4;
	bool protected_mode = mode == KVM_MODE_PROTECTED;
	struct guest_spec spec = {
		.mem_size = 64 << 10,
		.mode = protected_mode ? GUEST_PROTECTED : GUEST_REAL,
		.image = protected_mode ? probe_iret_start : &hlt,
		.len = protected_mode ? (size_t)(probe_iret_end - probe_iret_start) : 1,
		.load_gpa = PROBE_LOAD,
	};
	enum vcpu_result result;
	struct vcpu *vcpu;
	int fd = fcntl(kvm_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0 || __vm_create_with_one_vcpu(fd, &spec, &vcpu, why, len))
		return false;
	if (protected_mode) {
		vm_write_flat_gdt(vcpu->vm, PROBE_GDT);
		vcpu_load_gdt(vcpu, PROBE_GDT, 23);
	}
	result = vcpu_run(vcpu, 5000);
	snprintf(why, len, "%s", vcpu->why);
	vm_destroy(vcpu->vm);
	return result == VCPU_HALTED;
}

static struct probe probe_result;

static void probe_once(void)
{
	struct probe *p = &probe_result;
	int fd = __kvm_open();

	kvm_host_description(p->host, sizeof(p->host));
	if (fd < 0) {
		for (int m = 0; m < KVM_NR_MODES; m++)
			snprintf(p->why[m], sizeof(p->why[m]), "%s", kvm_open_diagnosis(-fd));
		return;
	}
	for (int m = 0; m < KVM_NR_MODES; m++) {
		char why[160];

		/* Protected mode is tried only where real mode works. */
		p->can_run[m] = (m == KVM_MODE_REAL || p->can_run[KVM_MODE_REAL]) &&
				probe_mode(fd, m, why, sizeof(why));
		if (!p->can_run[m])
			snprintf(p->why[m], sizeof(p->why[m]), "%s cannot run %s guests (%s)",
				 p->host, m == KVM_MODE_REAL ? "real-mode" : "protected-mode",
				 m == KVM_MODE_REAL || p->can_run[KVM_MODE_REAL]
					 ? why
					 : "it cannot even run real mode");
	}
	close(fd);
}

/*
 * Whether this host's KVM runs guests of mode; if not, why (naming the
 * KVM) goes to *why. Computed once per process: the first call costs two
 * tiny VMs, every later one nothing. The one process-wide state in lib/,
 * because what the host can do does not change while we run.
 */
bool kvm_can_run(enum kvm_mode mode, const char **why)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, probe_once);
	if (why)
		*why = probe_result.can_run[mode] ? probe_result.host : probe_result.why[mode];
	return probe_result.can_run[mode];
}
