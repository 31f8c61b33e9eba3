// SPDX-License-Identifier: MIT
/*
 * vcpu_memory_isolation: four guests run at once, one vCPU each, each in
 * its own VM (DESIGN.md, "Isolation"). One is hostile: it fills its own
 * memory and writes to every 4 KiB page it can address in real mode
 * (1 MiB + 64 KiB). The others' output and memory stay untouched.
 * The contrast: two vCPUs in ONE VM share every memory slot. There the
 * neighbour runs and prints; then the same hostile guest runs; and the
 * neighbour, started again just as before, finds its code overwritten and
 * can no longer do its work. That is why mini-kvm gives each guest a VM
 * of its own.
 */
#include "test_util.h"

#define MEM_SIZE (256 << 10)
#define CANARY 0x5a
#define POISON 0xcc
#define CODE_SIZE 0x1000 /* the guest's code lives below; canaries above */
#define NR_GUESTS 4
#define BACKED_PAGES 63 /* (MEM_SIZE - CODE_SIZE) / 4096 */
#define GOOD_OUTPUT "good guest\ngood guest\ngood guest\n"

/* Print "good guest\n" three times, then hlt; at any segment. */
GUEST_CODE(good_guest, ".code16",
	"	mov $3, %di\n"
	"1:	mov %cs, %bx\n movzx %bx, %ebx\n shl $4, %ebx\n"
	"	add $(good_msg - good_guest_start), %ebx\n"
	"	mov $(good_msg_end - good_msg), %ecx\n" HC(HC_WRITE)
	"	dec %di\n jnz 1b\n"
	"	hlt\n"
	"good_msg: .ascii \"good guest\\n\"\n good_msg_end:\n");

/*
 * Fill [CODE_SIZE, 64 KiB) of every segment from 0x0100 up with rep stosb
 * while it is backed (256 KiB), then one dword per 4 KiB page up to the
 * end of what real mode reaches (segment 0xffff). Starts where its CS is.
 */
GUEST_CODE(hostile_guest, ".code16",
	"	cld\n"
	"	mov %cs, %ax\n add $0x100, %ax\n mov %ax, %es\n"
	"	mov $" XSTR(POISON) ", %al\n"
	"	mov $" XSTR(BACKED_PAGES) ", %si\n"
	"1:	xor %di, %di\n mov $4096, %cx\n rep stosb\n"
	"	mov %es, %dx\n add $0x100, %dx\n mov %dx, %es\n"
	"	dec %si\n jnz 1b\n"
	"	mov $0xcccccccc, %eax\n"
	"	xor %dx, %dx\n"
	"2:	mov %dx, %es\n"
	"	mov %eax, %es:0\n"
	"	add $0x100, %dx\n jnc 2b\n"
	"	mov $0xffff, %dx\n mov %dx, %es\n mov %eax, %es:0xfffc\n"
	"	mov $(hostile_msg - hostile_guest_start), %ebx\n"
	"	mov $(hostile_msg_end - hostile_msg), %ecx\n" HC(HC_WRITE)
	"	hlt\n"
	"hostile_msg: .ascii \"hostile guest done\\n\"\n hostile_msg_end:\n");

static bool all_bytes_are(const uint8_t *p, size_t len, uint8_t value)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != value)
			return false;
	return true;
}

TEST(one_vm_per_guest_isolates)
{
	struct test_guest guests[NR_GUESTS];
	const int hostile = NR_GUESTS - 1;

	for (int i = 0; i < NR_GUESTS; i++) {
		const uint8_t *start = i == hostile ? hostile_guest_start : good_guest_start;
		const uint8_t *end = i == hostile ? hostile_guest_end : good_guest_end;
		struct vcpu *vcpu = test_real_mode_guest(MEM_SIZE, 0, start, end);

		memset(vm_gpa_to_hva(vcpu->vm, CODE_SIZE, MEM_SIZE - CODE_SIZE), CANARY,
		       MEM_SIZE - CODE_SIZE);
		guests[i].vcpu = vcpu;
		test_console_attach(vcpu, &guests[i].tc, NULL);
	}
	test_run_guests(guests, NR_GUESTS);

	for (int i = 0; i < NR_GUESTS; i++) {
		struct vm *vm = guests[i].vcpu->vm;
		uint8_t *above_code = vm_gpa_to_hva(vm, CODE_SIZE, MEM_SIZE - CODE_SIZE);

		EXPECT_EQ(VCPU_HALTED, guests[i].result)
		TH_LOG("guest %d: %s", i, guests[i].vcpu->why);
		if (i == hostile) {
			EXPECT_STREQ("hostile guest done\n", guests[i].tc.out);
			EXPECT_TRUE(all_bytes_are(above_code, MEM_SIZE - CODE_SIZE, POISON));
			EXPECT_LT(0, guests[i].vcpu->stats.empty_bus) TH_LOG("no write left its memory");
		} else {
			EXPECT_STREQ(GOOD_OUTPUT, guests[i].tc.out);
			EXPECT_TRUE(all_bytes_are(above_code, MEM_SIZE - CODE_SIZE, CANARY))
			TH_LOG("guest %d's memory was touched", i);
		}
	}
	for (int i = 0; i < NR_GUESTS; i++)
		vm_destroy(guests[i].vcpu->vm);
}

/* Segments are a convention, not isolation: the reason for one VM each. */
TEST(two_vcpus_in_one_vm_are_not_isolated)
{
	const uint16_t neighbour_segment = 0x2000;
	struct vcpu *hostile = test_real_mode_guest(MEM_SIZE, 0, hostile_guest_start,
						    hostile_guest_end);
	struct vm *vm = hostile->vm;
	size_t code_len = good_guest_end - good_guest_start;
	struct vcpu *neighbour;
	struct test_console tc;
	enum vcpu_result result;

	memset(vm_gpa_to_hva(vm, CODE_SIZE, MEM_SIZE - CODE_SIZE), CANARY, MEM_SIZE - CODE_SIZE);
	neighbour = test_add_real_mode_vcpu(vm, neighbour_segment, good_guest_start,
					    good_guest_end);
	test_console_attach_vm(vm, &tc, NULL);

	ASSERT_EQ(VCPU_HALTED, vcpu_run(neighbour, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", neighbour->why);
	ASSERT_STREQ(GOOD_OUTPUT, tc.out) TH_LOG("the neighbour does not work even alone");
	ASSERT_EQ(VCPU_HALTED, vcpu_run(hostile, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", hostile->why);

	vcpu_set_real_mode(neighbour, neighbour_segment, 0);
	result = vcpu_run(neighbour, TEST_RUN_TIMEOUT_MS);
	TH_LOG("the neighbour, run again: %s: %s", vcpu_result_name(result), neighbour->why);
	EXPECT_NE(VCPU_HALTED, result) TH_LOG("the neighbour ran as before");
	EXPECT_STREQ(GOOD_OUTPUT "hostile guest done\n", tc.out) TH_LOG("the neighbour printed again");
	EXPECT_TRUE(all_bytes_are(vm_gpa_to_hva(vm, (uint64_t)neighbour_segment << 4, code_len),
				  code_len, POISON))
	TH_LOG("a vCPU could not reach its neighbour's code in the same VM?");
	vm_destroy(vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
