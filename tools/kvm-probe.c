// SPDX-License-Identifier: MIT
/*
 * kvm-probe: is there a KVM here that really runs our guests? It runs a
 * one-instruction real-mode guest (hlt), then a protected-mode guest that
 * takes a software interrupt and returns from it with iret, and says which
 * KVM it was. The test runner uses it to choose between this machine's KVM
 * and the helper VM.
 *
 * Exit 0: usable. 3: runs real mode only (kvm_pvm's instruction emulator,
 * for one, cannot iret in protected mode). 4: no usable KVM.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

#define LOAD 0x1000
#define GDT 0x500
#define IDT 0x2000

/* IDT entry 0x30 -> handler; int $0x30; hlt. The handler only irets. */
asm(".pushsection .rodata.probe, \"a\"\n"
    "iret_guest_start:\n.code32\n"
    "	mov $0x8000, %esp\n"
    "	movl $(0x00080000 + 0x1000 + handler - iret_guest_start), 0x2000 + 0x30 * 8\n"
    "	movl $0x00008e00, 0x2000 + 0x30 * 8 + 4\n"
    "	lidt 0x1000 + idtr - iret_guest_start\n"
    "	int $0x30\n"
    "	hlt\n"
    "handler: iret\n"
    "idtr: .word 0x7ff\n .long 0x2000\n"
    ".code64\niret_guest_end:\n.popsection\n");
extern const uint8_t iret_guest_start[], iret_guest_end[];

static enum vcpu_result run_guest(int kvm_fd, bool protected_mode, char *why, size_t len)
{
	static const uint8_t hlt = 0xf4;
	const uint8_t *code = protected_mode ? iret_guest_start : &hlt;
	size_t size = protected_mode ? (size_t)(iret_guest_end - iret_guest_start) : 1;
	enum vcpu_result result;
	struct vcpu *vcpu;
	struct vm *vm;
	int err;

	vm = __vm_create(dup(kvm_fd), &err);
	if (!vm) {
		snprintf(why, len, "KVM_CREATE_VM failed: %s", strerror(-err));
		return VCPU_CRASHED;
	}
	vm_add_memory(vm, 0, 64 << 10);
	vm_load_flat(vm, LOAD, code, size, why, len);
	vcpu = vcpu_add(vm);
	if (protected_mode) {
		vm_write_flat_gdt(vm, GDT);
		vcpu_set_protected_mode(vcpu, LOAD, 0);
		vcpu_load_gdt(vcpu, GDT, 23);
	} else {
		vcpu_set_real_mode(vcpu, LOAD >> 4, 0);
	}
	result = vcpu_run(vcpu, 5000);
	snprintf(why, len, "%s", vcpu->why);
	vm_destroy(vm);
	return result;
}

int main(void)
{
	int kvm_fd = __kvm_open();
	char desc[160], why[160];

	if (kvm_fd < 0) {
		printf("no usable KVM: %s\n", kvm_open_diagnosis(-kvm_fd));
		return 4;
	}
	kvm_host_description(desc, sizeof(desc));
	if (run_guest(kvm_fd, false, why, sizeof(why)) != VCPU_HALTED) {
		printf("no usable KVM (%s): a hlt guest did not halt: %s\n", desc, why);
		return 4;
	}
	if (run_guest(kvm_fd, true, why, sizeof(why)) != VCPU_HALTED) {
		printf("%s runs real mode only: a protected-mode iret failed: %s\n", desc, why);
		return 3;
	}
	printf("%s\n", desc);
	return 0;
}
