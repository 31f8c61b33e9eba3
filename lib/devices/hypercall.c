// SPDX-License-Identifier: MIT
/*
 * The hypercall port (include/mini-kvm/abi.h) seen from the host: a guest
 * writes a function number to HC_PORT, and we answer in EAX.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/device.h"

#define CR0_PG 0x80000000u

static int bad_hypercall(struct vcpu *vcpu, const char *what, unsigned long long arg)
{
	return vcpu_end(vcpu, VCPU_BAD_HYPERCALL, "bad hypercall: %s (0x%llx)", what, arg);
}

/*
 * HC_WRITE: [addr, addr + len) is physical with paging off, virtual with
 * paging on.
 */
static uint32_t hypercall_write(struct vcpu *vcpu, uint32_t addr, uint32_t len)
{
	uint8_t buf[HC_WRITE_MAX];
	struct kvm_sregs sregs;

	if (len > HC_WRITE_MAX)
		return HC_ERR_INVAL;
	if ((uint64_t)addr + len > 0x100000000ull)
		return HC_ERR_FAULT;
	/* Without CR0 we cannot tell what addr means: refuse, do not die. */
	if (__vcpu_ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		return HC_ERR_FAULT;
	if (vcpu_read_guest(vcpu, addr, buf, len, sregs.cr0 & CR0_PG))
		return HC_ERR_FAULT;
	console_write(vcpu, buf, len);
	return len;
}

static uint32_t hypercall_report(struct vcpu *vcpu, uint32_t tag, uint32_t value)
{
	if (vcpu->nr_reports == HC_REPORT_MAX)
		return HC_ERR_INVAL;
	vcpu->reports[vcpu->nr_reports][0] = tag;
	vcpu->reports[vcpu->nr_reports][1] = value;
	vcpu->nr_reports++;
	return 0;
}

/* Answers in EAX and returns VCPU_CONTINUE, or ends the guest. */
static int hypercall_one(struct vcpu *vcpu, uint8_t fn)
{
	int result = VCPU_CONTINUE;
	struct kvm_regs regs;
	uint32_t ebx, ret = 0;
	int c;

	vcpu->stats.hypercalls[fn < HC_NR_FUNCTIONS ? fn : HC_NR_FUNCTIONS]++;
	vcpu_regs_get(vcpu, &regs);
	ebx = (uint32_t)regs.rbx;
	switch (fn) {
	case HC_EXIT:
		if (ebx > 255)
			return bad_hypercall(vcpu, "HC_EXIT status out of range 0-255", ebx);
		vcpu->exit_status = ebx;
		return vcpu_end(vcpu, VCPU_EXITED, "HC_EXIT %u", ebx);
	case HC_PUTCHAR:
		console_write(vcpu, &regs.rbx, 1);
		break;
	case HC_GETCHAR:
		c = console_read(vcpu, true);
		ret = c < 0 ? HC_EOF : (uint32_t)c;
		break;
	case HC_WRITE:
		ret = hypercall_write(vcpu, ebx, (uint32_t)regs.rcx);
		break;
	case HC_REPORT:
		ret = hypercall_report(vcpu, ebx, (uint32_t)regs.rcx);
		break;
	case HC_VERSION:
		ret = HC_ABI_VERSION;
		break;
	case HC_SYNC:
		vcpu->sync_stage = ebx;
		result = vcpu_end(vcpu, VCPU_SYNC, "HC_SYNC %u", ebx);
		break;
	default:
		if (vcpu->vm->log)
			fprintf(vcpu->vm->log, "vcpu%d: unknown hypercall %u\n", vcpu->id, fn);
		ret = HC_ERR_NOSYS;
		break;
	}
	regs.rax = ret;
	vcpu_regs_set(vcpu, &regs);
	return result;
}

/*
 * Each byte written is one call: the bus hands over `rep outsb` a byte at
 * a time, and KVM may deliver it a byte per exit or many at once.
 */
static int hypercall_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			    uint32_t len, bool write)
{
	(void)dev;
	(void)offset;
	if (!write)
		return bad_hypercall(vcpu, "port 0x500 takes byte writes only, got a read of size",
				     len);
	if (len != 1)
		return bad_hypercall(vcpu, "port 0x500 takes byte writes only, got a write of size",
				     len);
	return hypercall_one(vcpu, *(uint8_t *)data);
}

static void hypercall_release(struct device *dev)
{
	free(dev);
}

int hypercall_device_add(struct vm *vm)
{
	struct device *dev = malloc(sizeof(*dev));
	int ret;

	if (!dev)
		return -ENOMEM;
	*dev = (struct device){
		.name = "hypercall",
		.base = HC_PORT,
		.len = 1,
		.access = hypercall_access,
		.release = hypercall_release,
	};
	ret = bus_add(&vm->pio, dev);
	if (ret)
		free(dev);
	return ret;
}
