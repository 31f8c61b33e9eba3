// SPDX-License-Identifier: MIT
/*
 * What a crashed guest looked like: registers, segments, control
 * registers, the bytes at the instruction pointer, and a hint.
 */
#include <string.h>

#include "mini-kvm/kvm.h"

static void dump_segment(FILE *out, const char *name, const struct kvm_segment *s)
{
	fprintf(out, "  %s=%04x base=%08llx limit=%08x type=%x dpl=%u %s%s%s\n", name, s->selector,
		(unsigned long long)s->base, s->limit, s->type, s->dpl,
		s->present ? "present" : "not-present", s->db ? " 32-bit" : " 16-bit",
		s->g ? " 4K-granular" : "");
}

/* The linear address of CS:IP, made physical through the guest's paging. */
static uint8_t *code_at_ip(struct vcpu *vcpu, const struct kvm_regs *regs,
			   const struct kvm_sregs *sregs, uint64_t *linear)
{
	uint64_t gpa;

	*linear = sregs->cs.base + (sregs->cr0 & 1 ? regs->rip : (regs->rip & 0xffff));
	if (__vcpu_translate(vcpu, *linear, &gpa))
		return NULL;
	return vm_gpa_to_hva(vcpu->vm, gpa, 16);
}

void vcpu_dump(struct vcpu *vcpu, FILE *out)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint64_t linear;
	uint8_t *code;

	if (__kvm_fd_ioctl(vcpu->fd, KVM_GET_REGS, &regs, NULL, 0) < 0 ||
	    __kvm_fd_ioctl(vcpu->fd, KVM_GET_SREGS, &sregs, NULL, 0) < 0) {
		fprintf(out, "  (registers unavailable)\n");
		return;
	}
	fprintf(out,
		"  eax=%08llx ebx=%08llx ecx=%08llx edx=%08llx\n"
		"  esi=%08llx edi=%08llx ebp=%08llx esp=%08llx\n"
		"  eip=%08llx eflags=%08llx\n",
		regs.rax, regs.rbx, regs.rcx, regs.rdx, regs.rsi, regs.rdi, regs.rbp, regs.rsp,
		regs.rip, regs.rflags);
	dump_segment(out, "cs", &sregs.cs);
	dump_segment(out, "ds", &sregs.ds);
	dump_segment(out, "ss", &sregs.ss);
	fprintf(out,
		"  cr0=%08llx (%s%s) cr2=%08llx cr3=%08llx cr4=%08llx\n"
		"  gdt=%08llx/%x idt=%08llx/%x\n",
		sregs.cr0, sregs.cr0 & 1 ? "protected" : "real mode",
		sregs.cr0 & 0x80000000u ? ", paging" : "", sregs.cr2, sregs.cr3, sregs.cr4,
		sregs.gdt.base, sregs.gdt.limit, sregs.idt.base, sregs.idt.limit);
	code = code_at_ip(vcpu, &regs, &sregs, &linear);
	fprintf(out, "  code at %08llx:", (unsigned long long)linear);
	for (int i = 0; code && i < 16; i++)
		fprintf(out, " %02x", code[i]);
	fprintf(out, code ? "\n" : " (outside guest memory)\n");
	if (vcpu->run->exit_reason == KVM_EXIT_INTERNAL_ERROR) {
		fprintf(out, "  suberror %u, data:", vcpu->run->internal.suberror);
		for (uint32_t i = 0; i < vcpu->run->internal.ndata && i < 16; i++)
			fprintf(out, " %llx", (unsigned long long)vcpu->run->internal.data[i]);
		fputc('\n', out);
	}
}

const char *vcpu_crash_hint(struct vcpu *vcpu)
{
	switch (vcpu->run->exit_reason) {
	case KVM_EXIT_SHUTDOWN:
		return "triple fault: no IDT (or a bad one), a bad stack, or a broken GDT?";
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu->run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
			       ? "KVM could not emulate an instruction: a jump into garbage or "
				 "unmapped memory?"
			       : "KVM hit an internal error while running the guest";
	case KVM_EXIT_FAIL_ENTRY:
		return "the CPU refused the guest state: inconsistent segments or control "
		       "registers?";
	case KVM_EXIT_IO:
		if (vcpu->run->io.port == HC_PORT)
			return "the guest misused the hypercall port (see include/mini-kvm/abi.h)";
		return "the guest used a port with no device behind it";
	case KVM_EXIT_MMIO:
		return "the guest touched memory it was not given";
	default:
		return "an exit mini-kvm does not handle";
	}
}
