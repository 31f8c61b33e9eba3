// SPDX-License-Identifier: MIT
/*
 * Putting a fresh vCPU into the mode its guest expects: real mode at a
 * segment, or 32-bit flat protected mode the way a multiboot loader leaves
 * it; and any vCPU back to real mode, as for an ACPI S3 resume. Plus the
 * host-side builders for a GDT and a PSE page directory.
 * The CPU a vCPU reports (CPUID) is lib/boot/cpuid.c's.
 */
#include <string.h>

#include "mini-kvm/kvm.h"

#define CR0_PE 0x00000001u
#define CR0_ET 0x00000010u
#define CR0_PG 0x80000000u
#define CR0_RESET 0x60000010u /* CD, NW and ET: what INIT and reset leave */
#define CR4_PSE 0x00000010u

#define PDE_PRESENT 0x001u
#define PDE_WRITABLE 0x002u
#define PDE_USER 0x004u
#define PDE_4MIB 0x080u
#define PSE_PAGE_SIZE 0x400000u

#define FLAT_CODE_SELECTOR 0x08
#define FLAT_DATA_SELECTOR 0x10

static void vcpu_set_entry(struct vcpu *vcpu, uint32_t ip, uint32_t sp)
{
	struct kvm_regs regs = { .rip = ip, .rsp = sp, .rflags = 0x2 };

	vcpu_regs_set(vcpu, &regs);
}

/* CS = DS = ES = SS = segment, IP = 0: the image's first byte runs. */
void vcpu_set_real_mode(struct vcpu *vcpu, uint16_t segment, uint16_t sp)
{
	struct kvm_sregs sregs;
	struct kvm_segment *segs[] = { &sregs.cs, &sregs.ds, &sregs.es,
				       &sregs.ss, &sregs.fs, &sregs.gs };

	vcpu_sregs_get(vcpu, &sregs);
	for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
		segs[i]->selector = segment;
		segs[i]->base = (uint64_t)segment << 4;
		segs[i]->limit = 0xffff;
	}
	sregs.cr0 &= ~(CR0_PE | CR0_PG);
	vcpu_sregs_set(vcpu, &sregs);
	vcpu_set_entry(vcpu, 0, sp);
}

/*
 * Back to real mode from any mode, as INIT leaves a CPU (Intel SDM vol.
 * 3A, table 10-1: paging, long mode and protection off) but at CS:IP:
 * where firmware resumes a guest after ACPI S3. The local APIC is kept.
 */
void vcpu_reset_to_real_mode(struct vcpu *vcpu, uint16_t cs, uint16_t ip)
{
	struct kvm_segment data = { .limit = 0xffff, .type = 3, .present = 1, .s = 1 };
	struct kvm_regs regs = { .rip = ip, .rflags = 0x2 };
	struct kvm_sregs sregs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.ds = sregs.es = sregs.fs = sregs.gs = sregs.ss = data;
	sregs.cs = data;
	sregs.cs.type = 0xb;
	sregs.cs.selector = cs;
	sregs.cs.base = (uint64_t)cs << 4;
	sregs.tr = (struct kvm_segment){ .limit = 0xffff, .type = 0xb, .present = 1 };
	sregs.ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	sregs.gdt = sregs.idt = (struct kvm_dtable){ .limit = 0xffff };
	sregs.cr0 = CR0_RESET;
	sregs.cr2 = sregs.cr3 = sregs.cr4 = sregs.cr8 = sregs.efer = 0;
	memset(sregs.interrupt_bitmap, 0, sizeof(sregs.interrupt_bitmap));
	vcpu_sregs_set(vcpu, &sregs);
	vcpu_regs_set(vcpu, &regs);
}

/* A 32-bit ring-0 segment over all 4 GiB: code (type 0xb) or data (0x3). */
struct kvm_segment flat_segment(uint16_t selector, uint8_t type)
{
	return (struct kvm_segment){
		.base = 0,
		.limit = 0xffffffff,
		.selector = selector,
		.type = type,
		.present = 1,
		.dpl = 0,
		.db = 1,
		.s = 1,
		.l = 0,
		.g = 1,
	};
}

/* Flat 4 GiB code and data segments, paging off, interrupts off. */
void vcpu_set_protected_mode(struct vcpu *vcpu, uint32_t entry, uint32_t esp)
{
	struct kvm_sregs sregs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs = flat_segment(FLAT_CODE_SELECTOR, 0xb); /* code, read, accessed */
	sregs.ds = flat_segment(FLAT_DATA_SELECTOR, 0x3); /* data, write, accessed */
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.cr0 = (sregs.cr0 | CR0_PE | CR0_ET) & ~CR0_PG;
	vcpu_sregs_set(vcpu, &sregs);
	vcpu_set_entry(vcpu, entry, esp);
}

/* One 8-byte segment descriptor (Intel SDM vol. 3, 3.4.5). */
uint64_t gdt_entry(uint32_t base, uint32_t limit, uint8_t access, uint8_t flags)
{
	return (uint64_t)(limit & 0xffff) | (uint64_t)(base & 0xffffff) << 16 |
	       (uint64_t)access << 40 | (uint64_t)((limit >> 16) & 0xf) << 48 |
	       (uint64_t)(flags & 0xf) << 52 | (uint64_t)(base >> 24) << 56;
}

/* Null, flat code (0x08) and flat data (0x10): 24 bytes at gpa. */
void vm_write_flat_gdt(struct vm *vm, uint64_t gpa)
{
	uint64_t gdt[3] = {
		0,
		gdt_entry(0, 0xfffff, 0x9a, 0xc), /* present, ring 0, code, 4 KiB units, 32-bit */
		gdt_entry(0, 0xfffff, 0x92, 0xc), /* present, ring 0, data */
	};
	void *dst = vm_gpa_to_hva(vm, gpa, sizeof(gdt));

	if (!dst)
		kvm_die("GDT at 0x%llx lies outside guest memory", (unsigned long long)gpa);
	memcpy(dst, gdt, sizeof(gdt));
}

void vcpu_load_gdt(struct vcpu *vcpu, uint64_t gpa, uint16_t limit)
{
	struct kvm_sregs sregs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.gdt.base = gpa;
	sregs.gdt.limit = limit;
	vcpu_sregs_set(vcpu, &sregs);
}

/* A page-directory entry that maps one 4 MiB page (CR4.PSE). */
uint32_t pse_pde(uint32_t paddr, bool user, bool writable)
{
	return (paddr & ~(PSE_PAGE_SIZE - 1)) | PDE_4MIB | PDE_PRESENT |
	       (writable ? PDE_WRITABLE : 0) | (user ? PDE_USER : 0);
}

/* Map [vaddr, vaddr + size) to paddr in 4 MiB pages, rounding outwards. */
void pse_map(uint32_t *page_dir, uint32_t vaddr, uint32_t paddr, uint32_t size, bool user,
	     bool writable)
{
	uint32_t first = vaddr / PSE_PAGE_SIZE;
	uint32_t count = (size + (vaddr % PSE_PAGE_SIZE) + PSE_PAGE_SIZE - 1) / PSE_PAGE_SIZE;

	for (uint32_t i = 0; i < count && first + i < 1024; i++)
		page_dir[first + i] = pse_pde(paddr + i * PSE_PAGE_SIZE, user, writable);
}

void vcpu_enable_pse_paging(struct vcpu *vcpu, uint32_t page_dir_gpa)
{
	struct kvm_sregs sregs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cr3 = page_dir_gpa;
	sregs.cr4 |= CR4_PSE;
	sregs.cr0 |= CR0_PE | CR0_PG;
	vcpu_sregs_set(vcpu, &sregs);
}
