// SPDX-License-Identifier: MIT
/*
 * The whole set-up of a guest in one call, as the KVM selftests'
 * vm_create_with_one_vcpu(): a VM, its memory at GPA 0, the irqchip if
 * asked, the image and one vCPU in the guest's mode.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mini-kvm/device.h"

static int load_and_enter(struct vm *vm, const struct guest_spec *spec, struct vcpu **vcpup)
{
	uint32_t entry = spec->load_gpa;
	int ret;

	if (!spec->image)
		ret = 0; /* the caller loads it (a Linux kernel, lib/boot/bzimage.c) */
	else if (spec->mode == GUEST_PROTECTED && image_is_elf(spec->image, spec->len))
		ret = __vm_load_elf(vm, spec->image, spec->len, &entry);
	else
		ret = __vm_load_flat(vm, spec->load_gpa, spec->image, spec->len);
	if (!ret)
		ret = __vcpu_add(vm, vcpup);
	if (ret)
		return ret;
	if (spec->mode == GUEST_REAL) {
		vcpu_set_real_mode(*vcpup, spec->load_gpa >> 4, spec->stack);
		return 0;
	}
	ret = __vcpu_set_cpuid(*vcpup);
	if (!ret)
		vcpu_set_protected_mode(*vcpup, entry, spec->stack);
	return ret;
}

/*
 * Takes kvm_fd over. Returns 0 or -errno; on failure nothing is left
 * behind, and err says what failed.
 */
int __vm_create_with_one_vcpu(int kvm_fd, const struct guest_spec *spec, struct vcpu **vcpup,
			      char *err, size_t errlen)
{
	struct vm *vm;
	int ret = __vm_create(kvm_fd, &vm);

	*vcpup = NULL;
	if (ret) {
		snprintf(err, errlen, "KVM_CREATE_VM failed: %s", strerror(-ret));
		close(kvm_fd);
		return ret;
	}
	vm->cpu_model = spec->cpu_model;
	if (spec->mode == GUEST_REAL && spec->load_gpa % 16)
		ret = -EINVAL;
	if (!ret)
		ret = __vm_add_memory(vm, 0, spec->mem_size);
	if (!ret && spec->irqchip)
		ret = spec->no_pit ? __vm_create_irqchip_without_pit(vm) : __vm_create_irqchip(vm);
	/* Before the image, which may overwrite what a BIOS would leave. */
	if (!ret && spec->pc_firmware)
		ret = pc_firmware_setup(vm);
	if (!ret)
		ret = load_and_enter(vm, spec, vcpup);
	if (ret) {
		snprintf(err, errlen, "%s", vm->error[0] ? vm->error : strerror(-ret));
		vm_destroy(vm);
		*vcpup = NULL;
	}
	return ret;
}

struct vcpu *vm_create_with_one_vcpu(const struct guest_spec *spec)
{
	struct vcpu *vcpu;
	char err[160];

	if (__vm_create_with_one_vcpu(kvm_open(), spec, &vcpu, err, sizeof(err)))
		kvm_die("%s", err);
	return vcpu;
}
