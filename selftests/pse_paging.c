// SPDX-License-Identifier: MIT
/*
 * pse_paging: 32-bit protected mode with CR4.PSE and 4 MiB pages built by
 * the library's page-directory builder. The guest reads and writes memory
 * through a high mapping (0x80000000 -> physical 0), prints through
 * HC_WRITE with a virtual address, and touches an unmapped page. At each
 * step it stops at an HC_SYNC stage, and the host checks there what the
 * guest cannot tell it: the value it read (in ECX) and the one it wrote
 * (in guest memory), the live mapping through KVM_TRANSLATE, what
 * HC_WRITE printed and returned, and, inside the guest's #PF handler,
 * CR2 and the error code. Needs a KVM that runs protected mode.
 */
#include "test_util.h"

#define MEM_SIZE (4 << 20)
#define LOAD_ADDR 0x1000
#define GDT_ADDR 0x500
#define IDT_ADDR 0x2000
#define PAGE_DIR_ADDR 0x3000
#define HIGH 0x80000000
#define MAGIC_ADDR 0x5000
#define MAGIC 0xcafebabe
#define WRITE_ADDR 0x6000
#define UNMAPPED 0x40000000
#define STAGE_MAPPED 1
#define STAGE_WRITTEN 2
#define STAGE_PAGE_FAULT 3
#define ABS(label) XSTR(LOAD_ADDR) " + " #label " - paging_guest_start"
#define SYNC(stage) "	mov $" XSTR(stage) ", %ebx\n" HC(HC_SYNC)

GUEST_CODE(paging_guest, ".code32",
	"	mov $0x8000, %esp\n"
	"	mov " XSTR(HIGH + MAGIC_ADDR) ", %ecx\n"
	"	movl $0x12345678, " XSTR(HIGH + WRITE_ADDR) "\n"
	SYNC(STAGE_MAPPED)
	"	mov $(" XSTR(HIGH) " + " ABS(msg) "), %ebx\n"
	"	mov $(msg_end - msg), %ecx\n" HC(HC_WRITE)
	"	mov %eax, %ecx\n"
	SYNC(STAGE_WRITTEN)
	/* IDT entry 14 (#PF): an interrupt gate to pf_handler (below 64 KiB) */
	"	movl $(0x00080000 + " ABS(pf_handler) "), " XSTR(IDT_ADDR) " + 14 * 8\n"
	"	movl $0x00008e00, " XSTR(IDT_ADDR) " + 14 * 8 + 4\n"
	"	lidt " ABS(idt_descriptor) "\n"
	"	mov " XSTR(UNMAPPED) ", %eax\n"
	"	mov $99, %ebx\n" HC(HC_EXIT) /* not reached */
	"pf_handler:\n"
	"	pop %ecx\n" /* the error code */
	SYNC(STAGE_PAGE_FAULT)
	"	xor %ebx, %ebx\n" HC(HC_EXIT)
	"idt_descriptor: .word 256 * 8 - 1\n .long " XSTR(IDT_ADDR) "\n"
	"msg: .ascii \"printed from a virtual address\\n\"\n"
	"msg_end:\n");

/* Run to the next stage; the guest's ECX there. */
static uint32_t run_to_stage(struct __test_metadata *_metadata, struct vcpu *vcpu,
			     uint32_t stage)
{
	struct kvm_regs regs;

	ASSERT_EQ(VCPU_SYNC, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	ASSERT_EQ(stage, vcpu->sync_stage);
	vcpu_regs_get(vcpu, &regs);
	return regs.rcx;
}

TEST(high_mapping_and_page_fault)
{
	static const char msg[] = "printed from a virtual address\n";
	struct guest_spec spec = {
		.mem_size = MEM_SIZE,
		.mode = GUEST_PROTECTED,
		.image = paging_guest_start,
		.len = paging_guest_end - paging_guest_start,
		.load_gpa = LOAD_ADDR,
	};
	struct vcpu *vcpu = vm_create_with_one_vcpu(&spec);
	struct vm *vm = vcpu->vm;
	struct test_console tc;
	struct kvm_sregs sregs;
	uint32_t *page_dir;
	uint64_t gpa;

	*(uint32_t *)vm_gpa_to_hva(vm, MAGIC_ADDR, 4) = MAGIC;
	page_dir = vm_gpa_to_hva(vm, PAGE_DIR_ADDR, 4096);
	pse_map(page_dir, 0, 0, MEM_SIZE, false, true);
	pse_map(page_dir, HIGH, 0, MEM_SIZE, false, true);
	vm_write_flat_gdt(vm, GDT_ADDR);
	vcpu_load_gdt(vcpu, GDT_ADDR, 3 * 8 - 1);
	vcpu_enable_pse_paging(vcpu, PAGE_DIR_ADDR);
	test_console_attach(vcpu, &tc, NULL);

	EXPECT_EQ(MAGIC, run_to_stage(_metadata, vcpu, STAGE_MAPPED)) TH_LOG("read at HIGH");
	EXPECT_EQ(0x12345678, *(uint32_t *)vm_gpa_to_hva(vm, WRITE_ADDR, 4)) TH_LOG("written");
	ASSERT_EQ(0, __vcpu_translate(vcpu, HIGH + MAGIC_ADDR, &gpa)) TH_LOG("%s", vm->error);
	EXPECT_EQ(MAGIC_ADDR, gpa);
	EXPECT_EQ(-EFAULT, __vcpu_translate(vcpu, UNMAPPED, &gpa));

	EXPECT_EQ(strlen(msg), run_to_stage(_metadata, vcpu, STAGE_WRITTEN)) TH_LOG("HC_WRITE");
	EXPECT_STREQ(msg, tc.out);

	/* Supervisor read of a page not present: error code 0. */
	EXPECT_EQ(0, run_to_stage(_metadata, vcpu, STAGE_PAGE_FAULT)) TH_LOG("error code");
	vcpu_sregs_get(vcpu, &sregs);
	EXPECT_EQ(UNMAPPED, sregs.cr2);

	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(0, vcpu->exit_status);
	vm_destroy(vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_PROTECTED))
