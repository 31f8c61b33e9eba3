// SPDX-License-Identifier: MIT
/*
 * real_mode_exit: a 16-bit guest with no irqchip prints through
 * HC_PUTCHAR and halts, and the host sees it stopped just past its own
 * hlt after one exit per character, the output, and the registers the
 * guest left behind; the same at a non-zero segment.
 */
#include "test_util.h"

GUEST_CODE(hello_guest, ".code16",
	"	xor %si, %si\n"
	"1:	mov %cs:msg(%si), %bl\n" /* msg is at offset msg - start: see below */
	"	test %bl, %bl\n"
	"	jz 2f\n"
	HC(HC_PUTCHAR)
	"	inc %si\n"
	"	jmp 1b\n"
	"2:	mov $0x1234, %cx\n"
	"	mov $0xbeef, %di\n"
	".globl hello_hlt\n"
	"hello_hlt: hlt\n"
	"msg = . - hello_guest_start\n"
	"	.asciz \"Hello from real mode\\n\"\n");
extern const uint8_t hello_hlt[];

static void run_hello(struct __test_metadata *_metadata, uint16_t segment)
{
	struct vcpu *vcpu = test_real_mode_guest(256 << 10, segment, hello_guest_start,
						 hello_guest_end);
	struct test_console tc;
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	test_console_attach(vcpu, &tc, NULL);
	ASSERT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_STREQ("Hello from real mode\n", tc.out);
	vcpu_regs_get(vcpu, &regs);
	EXPECT_EQ(hello_hlt + 1 - hello_guest_start, regs.rip) TH_LOG("not just past its hlt");
	EXPECT_EQ(0x1234, regs.rcx & 0xffff);
	EXPECT_EQ(0xbeef, regs.rdi & 0xffff);
	EXPECT_EQ(strlen("Hello from real mode\n"), regs.rsi & 0xffff);
	vcpu_sregs_get(vcpu, &sregs);
	EXPECT_EQ(segment, sregs.cs.selector);
	EXPECT_EQ((uint64_t)segment << 4, sregs.cs.base);
	EXPECT_EQ(0, sregs.cr0 & 1) TH_LOG("the guest should still be in real mode");
	EXPECT_EQ(strlen("Hello from real mode\n"), vcpu->stats.hypercalls[HC_PUTCHAR]);
	EXPECT_EQ(strlen("Hello from real mode\n"), vcpu->stats.exits[KVM_EXIT_IO]);
	EXPECT_EQ(1, vcpu->stats.exits[KVM_EXIT_HLT]);
	vm_destroy(vcpu->vm);
}

TEST(hello_at_segment_zero)
{
	run_hello(_metadata, 0);
}

TEST(hello_at_segment_0x1000)
{
	run_hello(_metadata, 0x1000);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
