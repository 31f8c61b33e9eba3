// SPDX-License-Identifier: MIT
/*
 * The hypercall ABI (include/mini-kvm/abi.h) seen from the host: a guest
 * writes a function number to HC_PORT, and we answer in EAX.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "mini-kvm/kvm.h"

static int bad_hypercall(struct vcpu *vcpu, const char *what, unsigned long long arg)
{
	snprintf(vcpu->why, sizeof(vcpu->why), "bad hypercall: %s (0x%llx)", what, arg);
	return VCPU_BAD_HYPERCALL;
}

/* Guest-virtual to guest-physical through the guest's own page tables. */
static int guest_translate(struct vcpu *vcpu, uint32_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };

	if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return -EFAULT;
	*gpa = tr.physical_address;
	return 0;
}

/*
 * HC_WRITE: [addr, addr + len) is physical with paging off, virtual with
 * paging on, and is copied page by page so no page boundary is trusted.
 */
uint32_t hypercall_write(struct vcpu *vcpu, uint32_t addr, uint32_t len)
{
	uint8_t buf[HC_WRITE_MAX];
	struct kvm_sregs sregs;
	bool paging;

	if (len > HC_WRITE_MAX)
		return HC_ERR_INVAL;
	if ((uint64_t)addr + len > 0x100000000ull)
		return HC_ERR_FAULT;
	/* Without CR0 we cannot tell what addr means: refuse, do not die. */
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return HC_ERR_FAULT;
	paging = sregs.cr0 & 0x80000000u;
	for (uint32_t done = 0, chunk; done < len; done += chunk) {
		uint32_t gva = addr + done;
		uint64_t gpa = gva;
		void *src;

		chunk = 4096 - (gva & 4095);
		if (chunk > len - done)
			chunk = len - done;
		if (paging && guest_translate(vcpu, gva, &gpa))
			return HC_ERR_FAULT;
		src = vm_gpa_to_hva(vcpu->vm, gpa, chunk);
		if (!src)
			return HC_ERR_FAULT;
		memcpy(buf + done, src, chunk);
	}
	vcpu->console.write(vcpu->console.opaque, buf, len);
	return len;
}

static uint32_t hypercall_getchar(struct vcpu *vcpu)
{
	int c = vcpu->uart.pending;

	vcpu->uart.pending = CONSOLE_EMPTY;
	if (c == CONSOLE_EMPTY)
		c = vcpu->console.getc(vcpu->console.opaque, true);
	return c < 0 ? HC_EOF : (uint32_t)c;
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

static int hypercall_one(struct vcpu *vcpu, uint8_t fn)
{
	struct kvm_regs regs;
	uint32_t ebx, ret;

	vcpu->stats.hypercalls[fn < HC_NR_FUNCTIONS ? fn : HC_NR_FUNCTIONS]++;
	vcpu_regs_get(vcpu, &regs);
	ebx = (uint32_t)regs.rbx;
	switch (fn) {
	case HC_EXIT:
		if (ebx > 255)
			return bad_hypercall(vcpu, "HC_EXIT status out of range 0-255", ebx);
		vcpu->exit_status = ebx;
		snprintf(vcpu->why, sizeof(vcpu->why), "HC_EXIT %u", ebx);
		return VCPU_EXITED;
	case HC_PUTCHAR:
		vcpu->console.write(vcpu->console.opaque, &regs.rbx, 1);
		ret = 0;
		break;
	case HC_GETCHAR:
		ret = hypercall_getchar(vcpu);
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
	default:
		if (vcpu->log)
			fprintf(vcpu->log, "vcpu%d: unknown hypercall %u\n", vcpu->id, fn);
		ret = HC_ERR_NOSYS;
		break;
	}
	regs.rax = ret;
	vcpu_regs_set(vcpu, &regs);
	return VCPU_CONTINUE;
}

/*
 * Returns VCPU_CONTINUE, VCPU_EXITED, or VCPU_BAD_HYPERCALL. Each byte
 * written is one call: KVM may deliver `rep outsb` a byte per exit or many
 * at once, and both must mean the same.
 */
int hypercall_dispatch(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *fn = (uint8_t *)run + run->io.data_offset;
	int ret = VCPU_CONTINUE;

	if (run->io.direction != KVM_EXIT_IO_OUT)
		return bad_hypercall(vcpu, "port 0x500 takes byte writes only, got a read of size",
				     run->io.size);
	if (run->io.size != 1)
		return bad_hypercall(vcpu, "port 0x500 takes byte writes only, got a write of size",
				     run->io.size);
	for (uint32_t i = 0; i < run->io.count && ret == VCPU_CONTINUE; i++)
		ret = hypercall_one(vcpu, fn[i]);
	return ret;
}
