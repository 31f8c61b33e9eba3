// SPDX-License-Identifier: MIT
/*
 * kvm-probe: is there a KVM here that really runs a guest? It creates a
 * VM, runs a one-instruction real-mode guest (hlt) and says which KVM it
 * was. Exit 0: usable; 4: not usable (the reason on stdout).
 * The test runner uses it to choose between native and the helper VM.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

int main(void)
{
	static const uint8_t hlt = 0xf4;
	int kvm_fd = __kvm_open(), err;
	char desc[160], msg[160];
	struct vcpu *vcpu;
	struct vm *vm;

	if (kvm_fd < 0) {
		printf("no usable KVM: %s\n", kvm_open_diagnosis(-kvm_fd));
		return 4;
	}
	vm = __vm_create(kvm_fd, &err);
	if (!vm) {
		printf("no usable KVM: KVM_CREATE_VM failed: %s\n", strerror(-err));
		return 4;
	}
	vm_add_memory(vm, 0, 4096);
	vm_load_flat(vm, 0, &hlt, 1, msg, sizeof(msg));
	vcpu = vcpu_add(vm);
	vcpu_set_real_mode(vcpu, 0, 0);
	if (vcpu_run(vcpu, 5000) != VCPU_HALTED) {
		printf("no usable KVM: a hlt guest did not halt (%s)\n", vcpu->why);
		return 4;
	}
	printf("%s\n", kvm_host_description(desc, sizeof(desc)));
	vm_destroy(vm);
	return 0;
}
