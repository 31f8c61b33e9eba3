// SPDX-License-Identifier: MIT
/*
 * QEMU's isa-debug-exit at port 0xf4: a write of value ends the VM with
 * status (value << 1) | 1, as QEMU's own exit status would be, so that a
 * test suite's runner reads the same verdicts (kvm-unit-tests: 1 pass,
 * 3 fail, 77 skip). Only when asked for: a guest that does not know about
 * it would otherwise end where it meant to write a harmless byte.
 */
#include <errno.h>
#include <stdlib.h>

#include "mini-kvm/device.h"

#define DEBUG_EXIT_PORT 0xf4

static int debug_exit_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			     uint32_t len, bool write)
{
	uint32_t value = 0;

	(void)dev;
	if (!write) {
		for (uint32_t i = 0; i < len; i++)
			((uint8_t *)data)[i] = 0xff;
		return VCPU_CONTINUE;
	}
	for (uint32_t i = 0; i < len && i < 4; i++)
		value |= (uint32_t)((uint8_t *)data)[i] << (8 * i);
	vcpu->exit_status = ((value << 1) | 1) & 0xff;
	return vcpu_end(vcpu, VCPU_EXITED, "debug-exit port 0x%llx: 0x%x (status %d)",
			(unsigned long long)(DEBUG_EXIT_PORT + offset), value, vcpu->exit_status);
}

static void debug_exit_release(struct device *dev)
{
	free(dev);
}

int debug_exit_add(struct vm *vm)
{
	struct device *dev = malloc(sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	*dev = (struct device){
		.name = "debug-exit",
		.base = DEBUG_EXIT_PORT,
		.len = 4,
		.access = debug_exit_access,
		.release = debug_exit_release,
	};
	ret = bus_add(&vm->pio, dev);
	if (ret)
		free(dev);
	return ret;
}
