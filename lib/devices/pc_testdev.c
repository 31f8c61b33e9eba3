// SPDX-License-Identifier: MIT
/*
 * QEMU's pc-testdev, which kvm-unit-tests' emulator, eventinj, ioapic and
 * realmode tests use: a 4-byte scratch register at port 0xe0; port 0xe4,
 * which makes KVM drop its mapping of a guest page (the next access
 * faults into KVM again) and keeps the page's contents; ports 0x2000+n, which set IRQ line n to the
 * value written; and 64 KiB of RAM at 0xff000000 that only MMIO exits
 * reach, so every access goes through KVM's instruction emulator.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "mini-kvm/device.h"

#define TESTDEV_SCRATCH 0xe0
#define TESTDEV_FLUSH 0xe4
#define TESTDEV_IRQ 0x2000
#define TESTDEV_NR_IRQS 24
#define TESTDEV_IOMEM 0xff000000u
#define TESTDEV_IOMEM_LEN 0x10000
#define PAGE_SIZE 4096u

struct pc_testdev {
	struct device scratch, flush, irq, iomem;
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t scratch_reg[4];
	uint8_t ram[TESTDEV_IOMEM_LEN];
	uint8_t page_copy[PAGE_SIZE]; /* a page being flushed, under lock */
};

/* A window of len bytes at offset of a register of size bytes. */
static void reg_access(pthread_mutex_t *lock, uint8_t *reg, uint64_t size, uint64_t offset,
		       void *data, uint32_t len, bool write)
{
	pthread_mutex_lock(lock);
	for (uint32_t i = 0; i < len; i++) {
		uint8_t *r = offset + i < size ? &reg[offset + i] : NULL;

		if (write && r)
			*r = ((uint8_t *)data)[i];
		else if (!write)
			((uint8_t *)data)[i] = r ? *r : 0xff;
	}
	pthread_mutex_unlock(lock);
}

static uint32_t le_value(const void *data, uint32_t len)
{
	uint32_t value = 0;

	for (uint32_t i = 0; i < len && i < 4; i++)
		value |= (uint32_t)((const uint8_t *)data)[i] << (8 * i);
	return value;
}

static int scratch_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			  uint32_t len, bool write)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, scratch);

	(void)vcpu;
	reg_access(&t->lock, t->scratch_reg, sizeof(t->scratch_reg), offset, data, len, write);
	return VCPU_CONTINUE;
}

/*
 * KVM drops its mapping of a host page whose mapping changes (the MMU
 * notifier), and the guest's next access to it faults into KVM again.
 * QEMU takes the page's access away and back with mprotect(); here the
 * page is given back to the kernel (MADV_DONTNEED) and its contents
 * written into a fresh one, so that KVM also finds a new page behind the
 * address. Measured in the helper VM (kvm_amd, nested): with the
 * mprotect() pair, i386 eventinj's DE-then-PF task-gate case ends in a
 * #GP that QEMU does not get; with this one mini-kvm's verdicts match
 * QEMU's in both builds. Between the two steps another vCPU would read
 * zeros: kvm-unit-tests flushes pages that only the flushing vCPU uses.
 */
static void flush_page(struct pc_testdev *t, void *page)
{
	pthread_mutex_lock(&t->lock);
	memcpy(t->page_copy, page, PAGE_SIZE);
	if (madvise(page, PAGE_SIZE, MADV_DONTNEED)) {
		/* Nothing was dropped: QEMU's way, which keeps the page. */
		mprotect(page, PAGE_SIZE, PROT_NONE);
		mprotect(page, PAGE_SIZE, PROT_READ | PROT_WRITE);
	} else {
		memcpy(page, t->page_copy, PAGE_SIZE);
	}
	pthread_mutex_unlock(&t->lock);
}

/* A 4-byte write of a guest-physical address flushes its page. */
static int flush_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			uint32_t len, bool write)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, flush);
	void *page;

	(void)vcpu;
	(void)offset;
	if (!write) {
		memset(data, 0xff, len);
		return VCPU_CONTINUE;
	}
	page = vm_gpa_to_hva(t->vm, le_value(data, len) & ~(PAGE_SIZE - 1), PAGE_SIZE);
	if (page)
		flush_page(t, page);
	return VCPU_CONTINUE;
}

static int irq_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
		      uint32_t len, bool write)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, irq);
	struct kvm_irq_level line = { .irq = offset, .level = le_value(data, len) != 0 };

	(void)vcpu;
	if (!write)
		memset(data, 0xff, len);
	else if (t->vm->has_irqchip)
		__vm_ioctl(t->vm, KVM_IRQ_LINE, &line);
	return VCPU_CONTINUE;
}

static int iomem_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			uint32_t len, bool write)
{
	struct pc_testdev *t = container_of(dev, struct pc_testdev, iomem);

	(void)vcpu;
	reg_access(&t->lock, t->ram, sizeof(t->ram), offset, data, len, write);
	return VCPU_CONTINUE;
}

/* The four ranges share one allocation, freed with the last of them. */
static void pc_testdev_release(struct device *dev)
{
	free(container_of(dev, struct pc_testdev, iomem));
}

int pc_testdev_add(struct vm *vm)
{
	struct pc_testdev *t = calloc(1, sizeof(*t));
	int nr_pio = vm->pio.nr, ret;

	if (!t)
		return -ENOMEM;
	t->vm = vm;
	pthread_mutex_init(&t->lock, NULL);
	t->scratch = (struct device){ "pc-testdev", TESTDEV_SCRATCH, 4, scratch_access, NULL };
	t->flush = (struct device){ "pc-testdev", TESTDEV_FLUSH, 4, flush_access, NULL };
	t->irq = (struct device){ "pc-testdev", TESTDEV_IRQ, TESTDEV_NR_IRQS, irq_access, NULL };
	t->iomem = (struct device){ "pc-testdev", TESTDEV_IOMEM, TESTDEV_IOMEM_LEN, iomem_access,
				    pc_testdev_release };
	ret = bus_add(&vm->pio, &t->scratch);
	if (!ret)
		ret = bus_add(&vm->pio, &t->flush);
	if (!ret)
		ret = bus_add(&vm->pio, &t->irq);
	if (!ret)
		ret = bus_add(&vm->mmio, &t->iomem);
	if (ret) {
		vm->pio.nr = nr_pio; /* take back the ranges added so far */
		free(t);
	}
	return ret;
}
