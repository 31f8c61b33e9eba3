// SPDX-License-Identifier: MIT
/*
 * phases: the floor program's phases (bench/floor.c -p), done through
 * libminikvm the way the mini-kvm command does them for a real-mode guest,
 * so that `make bench` can put the two side by side phase by phase.
 *
 *   phases     run the one-byte guest "hlt" and print "phase NAME US" lines on stderr
 *
 * Phases: open (kvm_open), create_vm (__vm_create: KVM_CREATE_VM, the TSS,
 * capability checks), memory (__vm_add_memory + vm_load_flat), vcpu
 * (__vcpu_add + vcpu_set_real_mode), first_exit (vcpu_run to the hlt, its
 * kick-signal setup included), teardown (vm_destroy).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/kvm.h"

static uint64_t t_last;

static void phase(const char *name)
{
	uint64_t t = now_ns();

	if (name)
		fprintf(stderr, "phase %s %llu\n", name, (unsigned long long)(t - t_last) / 1000);
	t_last = t;
}

int main(void)
{
	static const uint8_t hlt[] = { 0xf4 };
	enum vcpu_result result;
	struct vcpu *vcpu;
	struct vm *vm;
	int fd, ret;

	phase(NULL);
	fd = kvm_open();
	phase("open");
	ret = __vm_create(fd, &vm);
	if (ret)
		kvm_die("KVM_CREATE_VM failed: %s", strerror(-ret));
	phase("create_vm");
	vm_add_memory(vm, 0, 256 << 10);
	vm_load_flat(vm, 0, hlt, sizeof(hlt));
	phase("memory");
	vcpu = vcpu_add(vm);
	vcpu_set_real_mode(vcpu, 0, 0);
	phase("vcpu");
	result = vcpu_run(vcpu, 0);
	phase("first_exit");
	if (result != VCPU_HALTED) {
		fprintf(stderr, "phases: the guest ended %s: %s\n", vcpu_result_name(result),
			vcpu->why);
		return 1;
	}
	vm_destroy(vm);
	phase("teardown");
	fprintf(stderr, "exits 1\n");
	return 0;
}
