// SPDX-License-Identifier: MIT
/*
 * The PC keyboard controller, as far as a reset goes: its status reads
 * "ready" (so that a kernel's wait before a command is short) and command
 * 0xfe, the CPU reset line, ends the VM. No keyboard behind it.
 *
 * A reboot, then, ends mini-kvm as well, with status 0, unless the guest
 * asked for a warm reset through the BIOS's flag (0x1234 at 0x472). Linux
 * does that after a panic when told "reboot=...,panic_warm" (mini-kvm's
 * default command line does), and a crash is what a panic is: the VM
 * ends as crashed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/device.h"

#define I8042_DATA_PORT 0x60
#define I8042_COMMAND_PORT 0x64
#define I8042_CMD_RESET 0xfe
#define BIOS_RESET_FLAG_GPA 0x472
#define BIOS_WARM_RESET 0x1234

static bool warm_reset_asked(struct vcpu *vcpu)
{
	const uint16_t *flag = vm_gpa_to_hva(vcpu->vm, BIOS_RESET_FLAG_GPA, sizeof(*flag));
	uint16_t value = 0;

	if (flag)
		memcpy(&value, flag, sizeof(value));
	return value == BIOS_WARM_RESET;
}

static int i8042_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			uint32_t len, bool write)
{
	(void)dev;
	if (!write) {
		memset(data, 0, len); /* no data waiting, input buffer empty */
		return VCPU_CONTINUE;
	}
	if (offset != I8042_COMMAND_PORT - I8042_DATA_PORT || *(uint8_t *)data != I8042_CMD_RESET)
		return VCPU_CONTINUE;
	if (warm_reset_asked(vcpu))
		return vcpu_end(vcpu, VCPU_CRASHED,
				"the guest reset itself after a panic (warm reset asked at 0x%x)",
				BIOS_RESET_FLAG_GPA);
	vcpu->exit_status = 0;
	return vcpu_end(vcpu, VCPU_EXITED, "reset through the keyboard controller (reboot)");
}

static void i8042_release(struct device *dev)
{
	free(dev);
}

int i8042_add(struct vm *vm)
{
	struct device *dev = malloc(sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	*dev = (struct device){
		.name = "i8042",
		.base = I8042_DATA_PORT,
		.len = I8042_COMMAND_PORT - I8042_DATA_PORT + 1,
		.access = i8042_access,
		.release = i8042_release,
	};
	ret = bus_add(&vm->pio, dev);
	if (ret)
		free(dev);
	return ret;
}
