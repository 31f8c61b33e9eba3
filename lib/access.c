// SPDX-License-Identifier: MIT
/*
 * What code outside the run loop may do to a vCPU: read and write its
 * registers, reach guest memory (physical, or as the guest sees it), wait for a file
 * descriptor as long as the time limit allows, and end the guest. The
 * devices use this and nothing else of the vCPU, so that lib/ has no call
 * cycle: vcpu.c -> bus.c -> devices/ -> access.c.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <string.h>

#include "mini-kvm/kvm.h"

#define CR0_PG 0x80000000u
#define PAGE_SIZE 4096u

/*
 * With KVM_CAP_SYNC_REGS the registers travel in kvm_run on every exit,
 * so reading them costs no ioctl and writing them costs none either.
 */
void vcpu_regs_get(struct vcpu *vcpu, struct kvm_regs *regs)
{
	if (vcpu->vm->has_sync_regs)
		*regs = vcpu->run->s.regs.regs;
	else
		vcpu_ioctl(vcpu, KVM_GET_REGS, regs);
}

void vcpu_regs_set(struct vcpu *vcpu, struct kvm_regs *regs)
{
	if (vcpu->vm->has_sync_regs) {
		vcpu->run->s.regs.regs = *regs;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	} else {
		vcpu_ioctl(vcpu, KVM_SET_REGS, regs);
	}
}

void vcpu_sregs_get(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	vcpu_ioctl(vcpu, KVM_GET_SREGS, sregs);
}

void vcpu_sregs_set(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	vcpu_ioctl(vcpu, KVM_SET_SREGS, sregs);
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

/* Guest-virtual to guest-physical through the guest's own page tables. */
int __vcpu_translate(struct vcpu *vcpu, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };

	if (__vcpu_ioctl(vcpu, KVM_TRANSLATE, &tr) < 0 || !tr.valid)
		return -EFAULT;
	*gpa = tr.physical_address;
	return 0;
}

/*
 * Copy between buf and [gva, gva + len) of the guest, page by page so
 * that no page boundary is trusted: virtual with paging on, physical with
 * it off. Returns 0 or -EFAULT.
 */
static int vcpu_copy_guest(struct vcpu *vcpu, uint64_t gva, void *buf, uint32_t len, bool paging,
			   bool write)
{
	for (uint32_t done = 0, chunk; done < len; done += chunk) {
		uint64_t gpa = gva + done;
		uint8_t *hva;

		chunk = PAGE_SIZE - (gpa & (PAGE_SIZE - 1));
		if (chunk > len - done)
			chunk = len - done;
		if (paging && __vcpu_translate(vcpu, gva + done, &gpa))
			return -EFAULT;
		hva = vm_gpa_to_hva(vcpu->vm, gpa, chunk);
		if (!hva)
			return -EFAULT;
		if (write)
			memcpy(hva, (uint8_t *)buf + done, chunk);
		else
			memcpy((uint8_t *)buf + done, hva, chunk);
	}
	return 0;
}

int vcpu_read_guest(struct vcpu *vcpu, uint64_t gva, void *buf, uint32_t len, bool paging)
{
	return vcpu_copy_guest(vcpu, gva, buf, len, paging, false);
}

int vcpu_write_guest(struct vcpu *vcpu, uint64_t gva, const void *buf, uint32_t len, bool paging)
{
	return vcpu_copy_guest(vcpu, gva, (void *)buf, len, paging, true);
}

/* Record why the guest ended; returns result, for `return vcpu_end(...)`. */
int vcpu_end(struct vcpu *vcpu, enum vcpu_result result, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vcpu->why, sizeof(vcpu->why), fmt, ap);
	va_end(ap);
	return result;
}

/* Has a stop been asked for, or the time limit passed? */
bool vcpu_should_stop(struct vcpu *vcpu)
{
	return __atomic_load_n(&vcpu->stop, __ATOMIC_SEQ_CST) ||
	       (vcpu->deadline_ns && now_ns() >= vcpu->deadline_ns);
}

/*
 * Wait until fd is ready for events, on the vCPU's thread. The kick
 * signal is unblocked only inside ppoll(), exactly as inside KVM_RUN, so
 * the time limit and vcpu_kick() end the wait however late they come.
 * Returns 1 when fd is ready (or failed: the caller's read or write says
 * how), 0 when the vCPU must stop (the run loop then ends it) or a
 * debugger's vcpu_pause() came (vcpu->pause set: the caller may wait on).
 */
int vcpu_wait_fd(struct vcpu *vcpu, int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	while (!vcpu_should_stop(vcpu) && !__atomic_load_n(&vcpu->pause, __ATOMIC_SEQ_CST)) {
		int n = ppoll(&pfd, 1, NULL, vcpu->thread_set ? &vcpu->run_sigmask : NULL);

		if (n > 0 || (n < 0 && errno != EINTR))
			return 1;
	}
	return 0;
}
