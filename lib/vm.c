// SPDX-License-Identifier: MIT
/*
 * A VM: its file descriptor, its guest memory, its devices and, only when
 * asked, the in-kernel irqchip and PIT. One VM is also the unit of
 * isolation: its vCPUs can reach all of its memory slots, and nothing else.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "mini-kvm/device.h"

/*
 * A VM with the devices every mini-kvm guest has: the hypercall port and
 * COM1. Takes kvm_fd over when it succeeds (vm_destroy() closes it). Returns 0 or -errno;
 * only KVM_CREATE_VM can fail here besides memory.
 */
int __vm_create(int kvm_fd, struct vm **vmp)
{
	struct vm *vm = calloc(1, sizeof(*vm));
	int ret;

	*vmp = NULL;
	if (!vm)
		return -ENOMEM;
	vm->kvm_fd = kvm_fd;
	vm->fd = __kvm_fd_ioctl(kvm_fd, KVM_CREATE_VM, 0, NULL, 0);
	if (vm->fd < 0) {
		ret = vm->fd;
		free(vm);
		return ret;
	}
	vm->has_sync_regs = (kvm_check_cap(kvm_fd, KVM_CAP_SYNC_REGS) & KVM_SYNC_X86_REGS) != 0;
	console_init(&vm->console);
	ret = hypercall_device_add(vm);
	if (!ret)
		ret = uart_add(vm, COM1_PORT);
	if (ret) {
		vm_destroy(vm);
		return ret;
	}
	*vmp = vm;
	return 0;
}

struct vm *vm_create(void)
{
	struct vm *vm;
	int ret = __vm_create(kvm_open(), &vm);

	if (ret)
		kvm_die("KVM_CREATE_VM failed: %s", strerror(-ret));
	return vm;
}

void vm_destroy(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++) {
		munmap(vm->vcpus[i]->run, vm->run_size);
		close(vm->vcpus[i]->fd);
		free(vm->vcpus[i]->timing);
		free(vm->vcpus[i]);
	}
	bus_release(&vm->pio);
	bus_release(&vm->mmio);
	close(vm->fd);
	for (int i = 0; i < vm->nr_mem; i++)
		munmap(vm->mem[i].host, vm->mem[i].size);
	if (vm->kvm_fd >= 0)
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
	int ret;

	if (vm->nr_mem == VM_MAX_MEM_SLOTS || !size || size % 4096 || gpa % 4096) {
		snprintf(vm->error, sizeof(vm->error),
			 "guest memory 0x%llx+0x%llx: not page-aligned, empty, or no slot left",
			 (unsigned long long)gpa, (unsigned long long)size);
		return -EINVAL;
	}
	mem->host = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem->host == MAP_FAILED) {
		ret = -errno;
		snprintf(vm->error, sizeof(vm->error), "mmap of %llu bytes of guest memory: %s",
			 (unsigned long long)size, strerror(-ret));
		return ret;
	}
	region.userspace_addr = (uintptr_t)mem->host;
	ret = __vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region);
	if (ret < 0) {
		munmap(mem->host, size);
		return ret;
	}
	mem->gpa = gpa;
	mem->size = size;
	vm->nr_mem++;
	return 0;
}

void vm_add_memory(struct vm *vm, uint64_t gpa, uint64_t size)
{
	if (__vm_add_memory(vm, gpa, size))
		kvm_die("%s", vm->error);
}

static int create_irqchip(struct vm *vm, bool pit)
{
	struct kvm_pit_config pit_config = { .flags = 0 };
	int ret;

	if (vm->nr_vcpus) {
		snprintf(vm->error, sizeof(vm->error),
			 "KVM_CREATE_IRQCHIP must come before the first vCPU");
		return -EBUSY;
	}
	ret = __vm_ioctl(vm, KVM_CREATE_IRQCHIP, 0);
	if (!ret && pit)
		ret = __vm_ioctl(vm, KVM_CREATE_PIT2, &pit_config);
	if (ret < 0)
		return ret;
	vm->has_irqchip = true;
	vm->has_pit = pit;
	return 0;
}

/* The PIC pair, IOAPIC and local APICs, plus the i8254 PIT. */
int __vm_create_irqchip(struct vm *vm)
{
	return create_irqchip(vm, true);
}

/* The same without the PIT, whose ticks some guests must not see. */
int __vm_create_irqchip_without_pit(struct vm *vm)
{
	return create_irqchip(vm, false);
}

void vm_create_irqchip(struct vm *vm)
{
	if (__vm_create_irqchip(vm))
		kvm_die("%s", vm->error);
}

/*
 * Set-up is done: the VM needs /dev/kvm no more, and a guest that took
 * over the process must not find it open to make VMs of its own.
 */
void vm_close_kvm(struct vm *vm)
{
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	vm->kvm_fd = -1;
}

void vm_irq_line(struct vm *vm, uint32_t irq, int level)
{
	struct kvm_irq_level line = { .irq = irq, .level = level };

	vm_ioctl(vm, KVM_IRQ_LINE, &line);
}

void vm_set_console(struct vm *vm, const struct console_ops *ops)
{
	vm->console.ops = *ops;
}

/* Stop every vCPU of the VM: the VM ends when any of them ends it. */
void vm_kick_all(struct vm *vm)
{
	for (int i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
}
