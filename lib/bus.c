// SPDX-License-Identifier: MIT
/*
 * The bus: which device answers a port or a guest-physical address. A
 * dozen devices at most, so a list searched in order is all it needs.
 */
#include <errno.h>
#include <string.h>

#include "mini-kvm/device.h"

static bool overlaps(const struct device *a, uint64_t base, uint64_t len)
{
	return base < a->base + a->len && a->base < base + len;
}

/* Returns 0, -EBUSY if the range is taken, -ENOSPC if the bus is full. */
int bus_add(struct bus *bus, struct device *dev)
{
	if (!dev->len || dev->base + dev->len < dev->base)
		return -EINVAL;
	for (int i = 0; i < bus->nr; i++)
		if (overlaps(bus->devices[i], dev->base, dev->len))
			return -EBUSY;
	if (bus->nr == VM_MAX_DEVICES)
		return -ENOSPC;
	bus->devices[bus->nr++] = dev;
	return 0;
}

/* An access with no device behind it: reads all-ones, writes vanish. */
static int empty_bus(struct vcpu *vcpu, struct bus *bus, uint64_t addr, void *data, uint32_t len,
		     bool write)
{
	const char *what = bus == &vcpu->vm->pio ? "port" : "memory";

	vcpu->stats.empty_bus++;
	if (vcpu->vm->log)
		fprintf(vcpu->vm->log, "vcpu%d: %s %s 0x%llx (%u bytes): no device\n", vcpu->id,
			what, write ? "write" : "read", (unsigned long long)addr, len);
	if (!write)
		memset(data, 0xff, len);
	if (!vcpu->vm->empty_bus_fatal)
		return VCPU_CONTINUE;
	return vcpu_end(vcpu, VCPU_CRASHED, "%s %s at 0x%llx: no device there", what,
			write ? "write" : "read", (unsigned long long)addr);
}

/* The device whose range holds addr, or NULL. */
struct device *bus_find(struct bus *bus, uint64_t addr)
{
	for (int i = 0; i < bus->nr; i++) {
		struct device *dev = bus->devices[i];

		if (addr >= dev->base && addr - dev->base < dev->len)
			return dev;
	}
	return NULL;
}

/*
 * The device whose range holds addr gets the access (it checks offset +
 * len against its own size). Returns VCPU_CONTINUE or why the guest ended.
 */
int bus_access(struct vcpu *vcpu, struct bus *bus, uint64_t addr, void *data, uint32_t len,
	       bool write)
{
	struct device *dev = bus_find(bus, addr);

	if (dev)
		return dev->access(dev, vcpu, addr - dev->base, data, len, write);
	return empty_bus(vcpu, bus, addr, data, len, write);
}

void bus_release(struct bus *bus)
{
	for (int i = 0; i < bus->nr; i++)
		if (bus->devices[i]->release)
			bus->devices[i]->release(bus->devices[i]);
	bus->nr = 0;
}
