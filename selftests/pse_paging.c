// SPDX-License-Identifier: MIT
/*
 * pse_paging: 32-bit protected mode with CR4.PSE and 4 MiB pages built by
 * the library's page-directory builder. The guest reads and writes memory
 * through a high mapping (0x80000000 -> physical 0), prints through
 * HC_WRITE with a virtual address, and touches an unmapped page: its #PF
 * handler reports the error code and CR2. The host checks the mapping
 * with KVM_TRANSLATE and the memory contents.
 */
#include <sys/ioctl.h>

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
#define TAG_MAGIC 1
#define TAG_CR2 2
#define TAG_ERROR_CODE 3
#define TAG_WRITE 4
#define ABS(label) XSTR(LOAD_ADDR) " + " #label " - paging_guest_start"

GUEST_CODE(paging_guest, ".code32",
	"	mov $0x8000, %esp\n"
	"	mov " XSTR(HIGH + MAGIC_ADDR) ", %ecx\n"
	"	mov $" XSTR(TAG_MAGIC) ", %ebx\n" HC(HC_REPORT)
	"	movl $0x12345678, " XSTR(HIGH + WRITE_ADDR) "\n"
	"	mov $(" XSTR(HIGH) " + " ABS(msg) "), %ebx\n"
	"	mov $(msg_end - msg), %ecx\n" HC(HC_WRITE)
	"	mov %eax, %ecx\n mov $" XSTR(TAG_WRITE) ", %ebx\n" HC(HC_REPORT)
	/* IDT entry 14 (#PF): an interrupt gate to pf_handler (below 64 KiB) */
	"	movl $(0x00080000 + " ABS(pf_handler) "), " XSTR(IDT_ADDR) " + 14 * 8\n"
	"	movl $0x00008e00, " XSTR(IDT_ADDR) " + 14 * 8 + 4\n"
	"	lidt " ABS(idt_descriptor) "\n"
	"	mov " XSTR(UNMAPPED) ", %eax\n"
	"	mov $99, %ebx\n" HC(HC_EXIT) /* not reached */
	"pf_handler:\n"
	"	pop %ecx\n" /* the error code */
	"	mov $" XSTR(TAG_ERROR_CODE) ", %ebx\n" HC(HC_REPORT)
	"	mov %cr2, %ecx\n"
	"	mov $" XSTR(TAG_CR2) ", %ebx\n" HC(HC_REPORT)
	"	xor %ebx, %ebx\n" HC(HC_EXIT)
	"idt_descriptor: .word 256 * 8 - 1\n .long " XSTR(IDT_ADDR) "\n"
	"msg: .ascii \"printed from a virtual address\\n\"\n"
	"msg_end:\n");

TEST(high_mapping_and_page_fault)
{
	static const char msg[] = "printed from a virtual address\n";
	struct vm *vm = vm_create();
	struct test_console tc;
	struct vcpu *vcpu;
	uint32_t *page_dir;
	uint64_t gpa;

	vm_add_memory(vm, 0, MEM_SIZE);
	vm_load_flat(vm, LOAD_ADDR, paging_guest_start, paging_guest_end - paging_guest_start);
	*(uint32_t *)vm_gpa_to_hva(vm, MAGIC_ADDR, 4) = MAGIC;
	page_dir = vm_gpa_to_hva(vm, PAGE_DIR_ADDR, 4096);
	pse_map(page_dir, 0, 0, MEM_SIZE, false, true);
	pse_map(page_dir, HIGH, 0, MEM_SIZE, false, true);
	vm_write_flat_gdt(vm, GDT_ADDR);
	vcpu = vcpu_add(vm);
	test_console_attach(vcpu, &tc, NULL);
	vcpu_set_protected_mode(vcpu, LOAD_ADDR, 0);
	vcpu_load_gdt(vcpu, GDT_ADDR, 3 * 8 - 1);
	vcpu_enable_pse_paging(vcpu, PAGE_DIR_ADDR);

	ASSERT_EQ(0, __vcpu_translate(vcpu, HIGH + MAGIC_ADDR, &gpa));
	EXPECT_EQ(MAGIC_ADDR, gpa);
	EXPECT_EQ(-EFAULT, __vcpu_translate(vcpu, UNMAPPED, &gpa));

	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(0, vcpu->exit_status);
	EXPECT_STREQ(msg, tc.out);
	EXPECT_EQ(0x12345678, *(uint32_t *)vm_gpa_to_hva(vm, WRITE_ADDR, 4));
	ASSERT_EQ(4, vcpu->nr_reports);
	EXPECT_EQ(TAG_MAGIC, vcpu->reports[0][0]);
	EXPECT_EQ(MAGIC, vcpu->reports[0][1]);
	EXPECT_EQ(TAG_WRITE, vcpu->reports[1][0]);
	EXPECT_EQ(strlen(msg), vcpu->reports[1][1]);
	EXPECT_EQ(TAG_ERROR_CODE, vcpu->reports[2][0]);
	EXPECT_EQ(0, vcpu->reports[2][1] & 1) TH_LOG("#PF should say not-present");
	EXPECT_EQ(TAG_CR2, vcpu->reports[3][0]);
	EXPECT_EQ(UNMAPPED, vcpu->reports[3][1]);
	vm_destroy(vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_PROTECTED))
