// SPDX-License-Identifier: MIT
/*
 * vcpu_memory_isolation: four guests run at once, one vCPU each, each in
 * its own VM (DESIGN.md, "Isolation"). One is hostile: it fills its own
 * memory and writes to every 4 KiB page it can address in real mode
 * (1 MiB + 64 KiB). The others' output and memory stay untouched.
 * The contrast: two vCPUs in ONE VM share every memory slot, so the same
 * hostile guest destroys its neighbour, which is why mini-kvm gives each
 * guest a VM of its own.
 */
#include "test_util.h"

#define MEM_SIZE (256 << 10)
#define CANARY 0x5a
#define POISON 0xcc
#define CODE_SIZE 0x1000 /* the guest's code lives below; canaries above */
#define NR_GUESTS 4
#define BACKED_PAGES 63 /* (MEM_SIZE - CODE_SIZE) / 4096 */

/* Print "good guest\n" three times, then hlt. */
GUEST_CODE(good_guest, ".code16",
	"	mov $3, %di\n"
	"1:	mov $(good_msg - good_guest_start), %ebx\n"
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

static struct vcpu *guest_at(struct vm *vm, uint16_t segment, bool hostile)
{
	const uint8_t *start = hostile ? hostile_guest_start : good_guest_start;
	const uint8_t *end = hostile ? hostile_guest_end : good_guest_end;
	struct vcpu *vcpu;

	vm_load_flat(vm, (uint64_t)segment << 4, start, end - start);
	vcpu = vcpu_add(vm);
	vcpu_set_real_mode(vcpu, segment, 0);
	return vcpu;
}

TEST(one_vm_per_guest_isolates)
{
	struct test_guest guests[NR_GUESTS];
	const int hostile = NR_GUESTS - 1;

	for (int i = 0; i < NR_GUESTS; i++) {
		struct vm *vm = vm_create();

		vm_add_memory(vm, 0, MEM_SIZE);
		memset(vm_gpa_to_hva(vm, 0, MEM_SIZE), CANARY, MEM_SIZE);
		guests[i].vcpu = guest_at(vm, 0, i == hostile);
		test_console_attach(guests[i].vcpu, &guests[i].tc, NULL);
	}
	test_run_guests(guests, NR_GUESTS);

	for (int i = 0; i < NR_GUESTS; i++) {
		struct vm *vm = guests[i].vcpu->vm;
		uint8_t *above_code = vm_gpa_to_hva(vm, CODE_SIZE, MEM_SIZE - CODE_SIZE);

		EXPECT_EQ(VCPU_HALTED, guests[i].result) TH_LOG("guest %d: %s", i, guests[i].vcpu->why);
		if (i == hostile) {
			EXPECT_STREQ("hostile guest done\n", guests[i].tc.out);
			EXPECT_TRUE(all_bytes_are(above_code, MEM_SIZE - CODE_SIZE, POISON));
			EXPECT_LT(0, guests[i].vcpu->stats.empty_bus) TH_LOG("no write left its memory");
		} else {
			EXPECT_STREQ("good guest\ngood guest\ngood guest\n", guests[i].tc.out);
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
	struct vm *vm = vm_create();
	struct vcpu *hostile, *neighbour;
	struct test_console tc;
	const uint16_t neighbour_segment = 0x2000;
	uint8_t *neighbour_mem;

	vm_add_memory(vm, 0, MEM_SIZE);
	memset(vm_gpa_to_hva(vm, 0, MEM_SIZE), CANARY, MEM_SIZE);
	hostile = guest_at(vm, 0, true);
	neighbour = guest_at(vm, neighbour_segment, false);
	(void)neighbour;
	test_console_attach(hostile, &tc, NULL);
	ASSERT_EQ(VCPU_HALTED, vcpu_run(hostile, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", hostile->why);
	neighbour_mem = vm_gpa_to_hva(vm, ((uint64_t)neighbour_segment << 4) + CODE_SIZE, 4096);
	EXPECT_TRUE(all_bytes_are(neighbour_mem, 4096, POISON))
	TH_LOG("a vCPU could not reach its neighbour in the same VM?");
	vm_destroy(vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
