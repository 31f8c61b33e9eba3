// SPDX-License-Identifier: MIT
/*
 * pc_devices: the devices that kvm-unit-tests expects of a PC, each seen
 * from a guest through the bus, without kvm-unit-tests:
 * - fw_cfg at 0x510/0x511 gives the CPU count and the memory size the
 *   host gave it, little-endian, a byte at a time, and zeros past an item;
 * - the debug-exit port at 0xf4 ends the guest with (value << 1) | 1;
 * - pc-testdev's scratch register at 0xe0 keeps what was written, at any
 *   access size;
 * - ACPI S3 (PM1a control, SLP_TYP 1) resumes the guest in real mode at
 *   the FACS's waking vector, CS = vector >> 4, and with no vector ends
 *   it as a reset does (kvm-unit-tests' s3 does the first);
 * - the CMOS clock shows "update in progress" and then clears it, so a
 *   guest that waits for an update goes on (s3 waits so);
 * - none of them is there unless added: the empty bus answers instead.
 */
#include "mini-kvm/device.h"
#include "test_util.h"

#define MEM_SIZE (256 << 10)
#define REPORT_EAX(tag) "mov %eax, %ecx\n mov $" #tag ", %ebx\n" HC(HC_REPORT)
#define FW_CFG_READ(key, bytes)                                                         \
	"	mov $0x510, %dx\n mov $" #key ", %ax\n out %ax, (%dx)\n"                    \
	"	mov $0x511, %dx\n xor %eax, %eax\n mov $" #bytes ", %cx\n"                  \
	"1:	ror $8, %eax\n in (%dx), %al\n loop 1b\n"                                   \
	"	mov $(4 - " #bytes "), %cx\n jcxz 2f\n"                                     \
	"3:	ror $8, %eax\n loop 3b\n"                                                   \
	"2:	ror $8, %eax\n"

/* Reads NB_CPUS (2 bytes), the low half of RAM_SIZE, and "QEMU". */
GUEST_CODE(fw_cfg_guest, ".code16",
	FW_CFG_READ(0x05, 2) REPORT_EAX(1)
	FW_CFG_READ(0x03, 4) REPORT_EAX(2)
	FW_CFG_READ(0x00, 4) REPORT_EAX(3)
	/* Past NB_CPUS's two bytes: zeros. */
	FW_CFG_READ(0x05, 4) REPORT_EAX(4)
	"	hlt\n");

GUEST_CODE(debug_exit_guest, ".code16",
	"	mov $0xf4, %dx\n in (%dx), %al\n movzx %al, %eax\n" REPORT_EAX(1)
	"	mov $0xf4, %dx\n mov $0x21, %eax\n out %eax, (%dx)\n"
	"	mov $0xdead, %ecx\n mov $2, %ebx\n" HC(HC_REPORT) /* must not run */
	"	hlt\n");

GUEST_CODE(scratch_guest, ".code16",
	"	mov $0xe0, %dx\n mov $0x12345678, %eax\n out %eax, (%dx)\n"
	"	xor %eax, %eax\n in (%dx), %eax\n" REPORT_EAX(1)
	"	mov $0xe0, %dx\n mov $0xab, %al\n out %al, (%dx)\n"
	"	in (%dx), %eax\n" REPORT_EAX(2)
	"	mov $0xe2, %dx\n in (%dx), %ax\n movzx %ax, %eax\n" REPORT_EAX(3)
	"	hlt\n");

/* Sets the FACS's waking vector to VECTOR, then sleeps in S3. */
#define S3_SLEEP(vector)                                                                  \
	"	mov $(" XSTR(ACPI_FACS_GPA) " >> 4), %ax\n mov %ax, %es\n"                     \
	"	movl $" XSTR(vector) ", %es:(" XSTR(ACPI_FACS_GPA) " % 16 + " XSTR(                 \
		ACPI_FACS_WAKING_VECTOR) ")\n"                                                 \
	"	mov $" XSTR(ACPI_PM1A_CNT_PORT) ", %dx\n mov $0x2400, %ax\n out %ax, (%dx)\n" \
	"	mov $0xdead, %ecx\n mov $2, %ebx\n" HC(HC_REPORT) /* must not run */          \
	"	hlt\n"

#define WAKE_GPA 0x3000
GUEST_CODE(s3_guest, ".code16", S3_SLEEP(WAKE_GPA));
GUEST_CODE(s3_no_vector_guest, ".code16", S3_SLEEP(0));
/* At the waking vector: reports CS. */
GUEST_CODE(s3_wake, ".code16",
	"	mov %cs, %cx\n movzx %cx, %ecx\n mov $1, %ebx\n" HC(HC_REPORT)
	"	hlt\n");

/* Waits for the clock's update in progress to begin, and then to end. */
#define WAIT_UIP(jump) "1: mov $0xa, %al\n out %al, $0x70\n in $0x71, %al\n" \
		       "	test $0x80, %al\n " jump " 1b\n"
GUEST_CODE(rtc_update_guest, ".code16", WAIT_UIP("jz") WAIT_UIP("jnz") "	hlt\n");

static struct vcpu *guest(const uint8_t *start, const uint8_t *end)
{
	return test_real_mode_guest(MEM_SIZE, 0, start, end);
}

static void expect_reports(struct __test_metadata *_metadata, struct vcpu *vcpu,
			   const uint32_t (*want)[2], int n)
{
	ASSERT_EQ(n, vcpu->nr_reports);
	for (int i = 0; i < n; i++) {
		EXPECT_EQ(want[i][0], vcpu->reports[i][0]);
		EXPECT_EQ(want[i][1], vcpu->reports[i][1]) TH_LOG("report %d", i);
	}
}

TEST(fw_cfg_gives_cpus_and_memory)
{
	static const uint32_t want[][2] = { { 1, 3 }, { 2, MEM_SIZE }, { 3, 0x554d4551 }, { 4, 3 } };
	struct vcpu *vcpu = guest(fw_cfg_guest_start, fw_cfg_guest_end);

	ASSERT_EQ(0, fw_cfg_add(vcpu->vm, 3, MEM_SIZE));
	ASSERT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	expect_reports(_metadata, vcpu, want, 4);
	vm_destroy(vcpu->vm);
}

TEST(fw_cfg_is_not_there_unless_added)
{
	struct vcpu *vcpu = guest(fw_cfg_guest_start, fw_cfg_guest_end);

	ASSERT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	ASSERT_EQ(4, vcpu->nr_reports);
	EXPECT_EQ(0xffff, vcpu->reports[0][1]) TH_LOG("the empty bus: all-ones");
	vm_destroy(vcpu->vm);
}

TEST(debug_exit_ends_with_qemus_status)
{
	static const uint32_t want[][2] = { { 1, 0xff } };
	struct vcpu *vcpu = guest(debug_exit_guest_start, debug_exit_guest_end);

	ASSERT_EQ(0, debug_exit_add(vcpu->vm));
	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ((0x21 << 1) | 1, vcpu->exit_status);
	expect_reports(_metadata, vcpu, want, 1);
	vm_destroy(vcpu->vm);
}

TEST(debug_exit_is_not_there_unless_added)
{
	struct vcpu *vcpu = guest(debug_exit_guest_start, debug_exit_guest_end);

	ASSERT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(2, vcpu->nr_reports) TH_LOG("the guest went on past port 0xf4");
	vm_destroy(vcpu->vm);
}

TEST(pc_testdev_scratch_keeps_any_width)
{
	static const uint32_t want[][2] = { { 1, 0x12345678 }, { 2, 0x123456ab }, { 3, 0x1234 } };
	struct vcpu *vcpu = guest(scratch_guest_start, scratch_guest_end);

	ASSERT_EQ(0, pc_testdev_add(vcpu->vm));
	ASSERT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	expect_reports(_metadata, vcpu, want, 3);
	vm_destroy(vcpu->vm);
}

/* Real mode, with the ACPI tables and PM1a ports: 1 MiB holds the tables. */
static struct vcpu *acpi_guest(const uint8_t *start, const uint8_t *end)
{
	struct vcpu *vcpu = test_real_mode_guest(1 << 20, 0, start, end);
	uint64_t rsdp;

	if (__vm_write_acpi(vcpu->vm, 1, &rsdp) || acpi_pm_add(vcpu->vm))
		kvm_die("ACPI tables or PM1a ports: %s", vcpu->vm->error);
	return vcpu;
}

TEST(acpi_s3_resumes_at_the_waking_vector)
{
	static const uint32_t want[][2] = { { 1, WAKE_GPA >> 4 } };
	struct vcpu *vcpu = acpi_guest(s3_guest_start, s3_guest_end);

	memcpy(vm_gpa_to_hva(vcpu->vm, WAKE_GPA, s3_wake_end - s3_wake_start), s3_wake_start,
	       s3_wake_end - s3_wake_start);
	ASSERT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	expect_reports(_metadata, vcpu, want, 1);
	vm_destroy(vcpu->vm);
}

TEST(acpi_s3_without_a_waking_vector_is_a_reset)
{
	struct vcpu *vcpu = acpi_guest(s3_no_vector_guest_start, s3_no_vector_guest_end);

	ASSERT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(0, vcpu->exit_status);
	EXPECT_EQ(0, vcpu->nr_reports) TH_LOG("the guest went on past the S3 write");
	vm_destroy(vcpu->vm);
}

TEST(rtc_update_in_progress_comes_and_goes)
{
	struct vcpu *vcpu = guest(rtc_update_guest_start, rtc_update_guest_end);

	ASSERT_EQ(0, rtc_add(vcpu->vm));
	EXPECT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	vm_destroy(vcpu->vm);
}

TEST(a_device_range_cannot_be_claimed_twice)
{
	struct vm *vm = vm_create();

	EXPECT_EQ(0, debug_exit_add(vm));
	EXPECT_EQ(-EBUSY, debug_exit_add(vm));
	EXPECT_EQ(-EBUSY, uart_add(vm, COM1_PORT)) TH_LOG("COM1 is every VM's");
	vm_destroy(vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
