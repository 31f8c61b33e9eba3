// SPDX-License-Identifier: MIT
/*
 * A VM: its file descriptor, its guest memory and, only when asked, the
 * in-kernel irqchip and PIT. One VM is also the unit of isolation: its
 * vCPUs can reach all of its memory slots, and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

/* Where KVM may put the TSS that Intel needs to emulate real mode. */
#define KVM_TSS_ADDR 0xfffbd000

struct vm *__vm_create(int kvm_fd, int *err)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int ret;

	if (!vm) {
		*err = -ENOMEM;
		return NULL;
	}
	vm->kvm_fd = kvm_fd;
	vm->fd = ioctl(kvm_fd, KVM_CREATE_VM, 0);
	if (vm->fd < 0) {
		*err = -errno;
		free(vm);
		return NULL;
	}
	ret = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (ret <= 0 || (kvm_check_cap(kvm_fd, KVM_CAP_SET_TSS_ADDR) &&
			 ioctl(vm->fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)) {
		*err = -errno;
		close(vm->fd);
		free(vm);
		return NULL;
	}
	vm->run_size = ret;
	vm->has_sync_regs = (kvm_check_cap(kvm_fd, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS) != 0;
	return vm;
}

struct vm *vm_create(void)
{
	int err = 0;
	struct vm *vm = __vm_create(kvm_open(), &err);

	if (!vm)
		kvm_die_ioctl("KVM_CREATE_VM", -err);
	return vm;
}

void vm_destroy(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		munmap(vm->vcpus[i]->run, vm->run_size);
		close(vm->vcpus[i]->fd);
		free(vm->vcpus[i]);
	}
	close(vm->fd);
	for (int i = 0; i < vm->nr_mem; i++)
		munmap(vm->mem[i].host, vm->mem[i].size);
	close(vm->kvm_fd);
	free(vm);
}

/* Anonymous memory, so pages the guest never touches cost nothing. */
int __vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size)
{
	struct vm_mem *mem = &vm->mem[vm->nr_mem];
	struct kvm_userspace_memory_region region = {
		.slot = vm->nr_mem,
		.guest_phys_addr = gpa,
		.memory_size = size,
	};

	if (vm->nr_mem == VM_MAX_MEM_SLOTS || !size || size % 4096 || gpa % 4096)
		return -EINVAL;
	mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem->host == MAP_FAILED)
		return -errno;
	region.userspace_addr = (uintptr_t)mem->host;
	if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		int err = -errno;

		munmap(mem->host, size);
		return err;
	}
	mem->gpa = gpa;
	mem->size = size;
	vm->nr_mem++;
	return 0;
}

void vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size)
{
	int ret = __vm_add_memory(vm, gpa, size);

	if (ret)
		kvm_die_ioctl("KVM_SET_USER_MEMORY_REGION", -ret);
}

/*
 * The host address of guest-physical [gpa, gpa + len), or NULL unless the
 * whole range lies in one slot. Written so that no sum can wrap.
 */
void *vm_gpa_to_hva(struct vm *vm, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < vm->nr_mem; i++) {
		struct vm_mem *mem = &vm->mem[i];

		if (gpa < mem->gpa || gpa - mem->gpa >= mem->size)
			continue;
		if (len > mem->size - (gpa - mem->gpa))
			return NULL;
		return mem->host + (gpa - mem->gpa);
	}
	return NULL;
}

/* The PIC pair, IOAPIC and local APICs, plus the i8254 PIT. */
int __vm_create_irqchip(struct vm *vm)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (vm->nr_vcpus)
		return -EBUSY; /* KVM wants the irqchip before any vCPU */
	if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return -errno;
	if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0)
		return -errno;
	vm->has_irqchip = true;
	return 0;
}

void vm_create_irqchip(struct vm *vm)
{
	int ret = __vm_create_irqchip(vm);

	if (ret)
		kvm_die_ioctl("KVM_CREATE_IRQCHIP/KVM_CREATE_PIT2", -ret);
}

void vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };

	if (ioctl(vm->fd, KVM_IRQ_LINE, &line) < 0)
		kvm_die_ioctl("KVM_IRQ_LINE", errno);
}
