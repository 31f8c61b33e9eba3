// SPDX-License-Identifier: MIT
/*
 * multi_vcpu: 1, 2 and 4 vCPUs of one VM run at once on their own
 * threads, each at its own segment, sharing the VM's memory and console
 * (as a PC's CPUs share COM1). At once, and not one after another: each
 * guest first counts itself in at a shared word and waits until all have,
 * so no guest can finish unless every one of them is running (run one
 * after another, the first would wait until its time limit). Then each
 * finishes with its own correct output: its line on the console once,
 * and the sum 1..1000*k for vCPU k, computed by the guest and checked
 * against the host's arithmetic.
 */
#include "test_util.h"

#define MEM_SIZE (512 << 10)
#define TAG_SUM 1
#define ARRIVED 0x500 /* at physical 0x500: how many guests have started */
#define EXPECTED 0x502 /* and how many there are, written by the host */

/*
 * Count in, wait for all; then k = CS >> 12; print "vCPU k\n"; report
 * sum(1..1000*k); hlt.
 */
GUEST_CODE(sum_guest, ".code16",
	"	xor %ax, %ax\n mov %ax, %es\n"
	"	lock incw %es:" XSTR(ARRIVED) "\n"
	"1:	pause\n"
	"	mov %es:" XSTR(ARRIVED) ", %ax\n"
	"	cmp %es:" XSTR(EXPECTED) ", %ax\n"
	"	jb 1b\n"
	"	mov %cs, %bx\n shr $12, %bx\n"
	"	mov %bx, %si\n"
	"	add $'0', %bl\n mov %bl, %cs:(digit - sum_guest_start)\n"
	"	mov $(msg - sum_guest_start), %ebx\n"
	"	mov %cs, %ax\n movzx %ax, %eax\n shl $4, %eax\n add %eax, %ebx\n"
	"	mov $(msg_end - msg), %ecx\n" HC(HC_WRITE)
	"	movzx %si, %esi\n imul $1000, %esi, %esi\n"
	"	xor %ecx, %ecx\n"
	"1:	add %esi, %ecx\n dec %esi\n jnz 1b\n"
	"	mov $" XSTR(TAG_SUM) ", %ebx\n" HC(HC_REPORT)
	"	hlt\n"
	"msg: .ascii \"vCPU \"\n digit: .ascii \"?\\n\"\n msg_end:\n");

FIXTURE(vm) {
	struct vm *vm;
	struct test_console tc;
};

FIXTURE_VARIANT(vm) {
	int nr_vcpus;
};

FIXTURE_VARIANT_ADD(vm, one) { .nr_vcpus = 1 };
FIXTURE_VARIANT_ADD(vm, two) { .nr_vcpus = 2 };
FIXTURE_VARIANT_ADD(vm, four) { .nr_vcpus = 4 };

FIXTURE_SETUP(vm)
{
	self->vm = vm_create();
	vm_add_memory(self->vm, 0, MEM_SIZE);
	test_console_attach_vm(self->vm, &self->tc, NULL);
}

FIXTURE_TEARDOWN(vm)
{
	vm_destroy(self->vm);
}

TEST_F(vm, each_vcpu_its_own_result)
{
	uint16_t *arrived = vm_gpa_to_hva(self->vm, ARRIVED, 2);
	uint16_t *expected_nr = vm_gpa_to_hva(self->vm, EXPECTED, 2);
	struct test_guest guests[VM_MAX_VCPUS];
	char expected[16];

	*expected_nr = variant->nr_vcpus;
	for (int k = 1; k <= variant->nr_vcpus; k++)
		guests[k - 1].vcpu = test_add_real_mode_vcpu(self->vm, k << 12, sum_guest_start,
							     sum_guest_end);
	test_run_guests(guests, variant->nr_vcpus);
	EXPECT_EQ(variant->nr_vcpus, *arrived);
	EXPECT_EQ(variant->nr_vcpus * strlen("vCPU k\n"), self->tc.len);

	for (int k = 1; k <= variant->nr_vcpus; k++) {
		struct test_guest *g = &guests[k - 1];
		uint32_t n = 1000 * k;

		EXPECT_EQ(VCPU_HALTED, g->result) TH_LOG("vCPU %d: %s", k, g->vcpu->why);
		snprintf(expected, sizeof(expected), "vCPU %d\n", k);
		EXPECT_NE(NULL, strstr(self->tc.out, expected)) TH_LOG("console: %s", self->tc.out);
		ASSERT_EQ(1, g->vcpu->nr_reports);
		EXPECT_EQ(TAG_SUM, g->vcpu->reports[0][0]);
		EXPECT_EQ(n * (n + 1) / 2, g->vcpu->reports[0][1]);
	}
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
