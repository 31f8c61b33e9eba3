// SPDX-License-Identifier: MIT
/*
 * hypercalls: every function of the ABI (include/mini-kvm/abi.h) gives its
 * defined result: output, input up to and past its end, buffer writes
 * with good and bad arguments (too long, outside memory, wrapping), the
 * version, reports, an unknown function number, HC_EXIT with a status.
 * Misuses the ABI cannot answer in EAX (an out-of-range exit status, an
 * `in` from the port) end the guest with a message, and the host carries
 * on; `rep outsb` to the port is one call per byte.
 */
#include "test_util.h"

/* After a call: report EAX under a tag. */
#define REPORT_EAX(tag) "mov %eax, %ecx\n mov $" #tag ", %ebx\n" HC(HC_REPORT)

GUEST_CODE(all_functions, ".code16",
	HC(HC_VERSION) REPORT_EAX(1)
	"	mov $'A', %bl\n" HC(HC_PUTCHAR) REPORT_EAX(2)
	HC(HC_GETCHAR) REPORT_EAX(3)
	HC(HC_GETCHAR) REPORT_EAX(3)
	HC(HC_GETCHAR) REPORT_EAX(3)
	HC(HC_GETCHAR) REPORT_EAX(3)
	"	mov $(msg - all_functions_start), %ebx\n mov $(msg_end - msg), %ecx\n"
	HC(HC_WRITE) REPORT_EAX(4)
	"	mov $(msg - all_functions_start), %ebx\n mov $4097, %ecx\n"
	HC(HC_WRITE) REPORT_EAX(5)
	"	mov $0x3fff8, %ebx\n mov $16, %ecx\n" /* runs off the end of memory */
	HC(HC_WRITE) REPORT_EAX(6)
	"	mov $0xfffffff0, %ebx\n mov $0x20, %ecx\n" /* address + length wraps */
	HC(HC_WRITE) REPORT_EAX(7)
	"	mov $0x100000, %ebx\n mov $1, %ecx\n" /* beyond guest memory */
	HC(HC_WRITE) REPORT_EAX(8)
	"	mov $0x7f, %al\n mov $" XSTR(HC_PORT) ", %dx\n out %al, (%dx)\n"
	REPORT_EAX(9)
	"	mov $42, %ebx\n" HC(HC_EXIT)
	"	hlt\n" /* never reached */
	"msg: .ascii \" written by HC_WRITE\\n\"\n"
	"msg_end:\n");

TEST(every_function)
{
	static const uint32_t expected[][2] = {
		{ 1, HC_ABI_VERSION }, { 2, 0 }, { 3, 'x' }, { 3, 'y' }, { 3, HC_EOF },
		{ 3, HC_EOF }, { 4, 21 }, { 5, HC_ERR_INVAL }, { 6, HC_ERR_FAULT },
		{ 7, HC_ERR_FAULT }, { 8, HC_ERR_FAULT }, { 9, HC_ERR_NOSYS },
	};
	struct vcpu *vcpu = test_real_mode_guest(256 << 10, 0, all_functions_start,
						 all_functions_end);
	struct test_console tc;

	test_console_attach(vcpu, &tc, "xy");
	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(42, vcpu->exit_status);
	EXPECT_STREQ("A written by HC_WRITE\n", tc.out);
	ASSERT_EQ(sizeof(expected) / sizeof(expected[0]), vcpu->nr_reports);
	for (int i = 0; i < vcpu->nr_reports; i++) {
		EXPECT_EQ(expected[i][0], vcpu->reports[i][0]);
		EXPECT_EQ(expected[i][1], vcpu->reports[i][1]) TH_LOG("report %d", i);
	}
	EXPECT_EQ(4, vcpu->stats.hypercalls[HC_GETCHAR]);
	EXPECT_EQ(5, vcpu->stats.hypercalls[HC_WRITE]);
	EXPECT_EQ(1, vcpu->stats.hypercalls[HC_NR_FUNCTIONS]) TH_LOG("unknown numbers");
	vm_destroy(vcpu->vm);
}

GUEST_CODE(report_overflow, ".code16",
	"	mov $" XSTR(HC_REPORT_MAX) " + 1, %si\n"
	"1:	mov %si, %cx\n mov $7, %ebx\n" HC(HC_REPORT)
	"	dec %si\n jnz 1b\n"
	"	xor %ebx, %ebx\n"
	"	cmp $" XSTR(HC_ERR_INVAL) ", %eax\n" /* the last one was refused */
	"	je 2f\n"
	"	mov $1, %ebx\n"
	"2:	" HC(HC_EXIT));

TEST(reports_beyond_the_limit_are_refused)
{
	struct vcpu *vcpu = test_real_mode_guest(64 << 10, 0, report_overflow_start,
						 report_overflow_end);
	struct test_console tc;

	test_console_attach(vcpu, &tc, NULL);
	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(0, vcpu->exit_status);
	EXPECT_EQ(HC_REPORT_MAX, vcpu->nr_reports);
	vm_destroy(vcpu->vm);
}

GUEST_CODE(exit_out_of_range, ".code16", "mov $256, %ebx\n" HC(HC_EXIT) "hlt\n");
GUEST_CODE(in_from_port, ".code16", "mov $" XSTR(HC_PORT) ", %dx\n in (%dx), %al\n hlt\n");
/* rep outsb: each byte is a call: PUTCHAR, PUTCHAR, unknown, EXIT. */
GUEST_CODE(string_out_to_port, ".code16",
	"mov $'Z', %ebx\n"
	"mov $" XSTR(HC_PORT) ", %dx\n"
	"mov $(calls - string_out_to_port_start), %si\n"
	"mov $4, %cx\n"
	"rep outsb\n"
	"hlt\n"
	"calls: .byte " XSTR(HC_PUTCHAR) ", " XSTR(HC_PUTCHAR) ", 0x7f, " XSTR(HC_EXIT) "\n");

static void expect_bad_hypercall(struct __test_metadata *_metadata,
				 const uint8_t *start, const uint8_t *end)
{
	struct vcpu *vcpu = test_real_mode_guest(64 << 10, 0, start, end);
	struct test_console tc;

	test_console_attach(vcpu, &tc, NULL);
	EXPECT_EQ(VCPU_BAD_HYPERCALL, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS));
	EXPECT_EQ(0, strncmp(vcpu->why, "bad hypercall: ", 15)) TH_LOG("why: %s", vcpu->why);
	EXPECT_EQ(0, tc.len);
	vm_destroy(vcpu->vm);
}

TEST(exit_status_out_of_range_ends_guest)
{
	expect_bad_hypercall(_metadata, exit_out_of_range_start, exit_out_of_range_end);
}

TEST(in_from_hypercall_port_ends_guest)
{
	expect_bad_hypercall(_metadata, in_from_port_start, in_from_port_end);
}

TEST(rep_outsb_to_hypercall_port_is_one_call_per_byte)
{
	struct vcpu *vcpu = test_real_mode_guest(64 << 10, 0, string_out_to_port_start,
						 string_out_to_port_end);
	struct test_console tc;

	test_console_attach(vcpu, &tc, NULL);
	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ('Z', vcpu->exit_status);
	EXPECT_STREQ("ZZ", tc.out);
	EXPECT_EQ(1, vcpu->stats.hypercalls[HC_NR_FUNCTIONS]);
	vm_destroy(vcpu->vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
