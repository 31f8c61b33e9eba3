// SPDX-License-Identifier: MIT
/*
 * ioctl_errors: an ioctl that KVM refuses is reported under its own name,
 * which the wrappers take from the request macro itself (#cmd), so that
 * no message can blame the wrong call. KVM refuses here a memory slot
 * that overlaps another, a second irqchip, an irqchip after the first
 * vCPU, and registers no CPU can hold. The __ form returns -errno with
 * "NAME failed: reason (errno N)" in vm->error and leaves the VM as it
 * was (a guest still runs in it); the plain form prints that line and
 * exits with 126.
 */
#include <sys/wait.h>

#include "test_util.h"

#define MEM_SIZE (64 << 10)

GUEST_CODE(hlt_guest, ".code16", "hlt\n");

/* What the library says when ioctl name failed with err. */
static const char *failed(const char *name, int err)
{
	static char msg[160];

	snprintf(msg, sizeof(msg), "%s failed: %s (errno %d)", name, strerror(err), err);
	return msg;
}

TEST(overlapping_memory_slot)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	ASSERT_EQ(0, __vm_add_memory(vm, 0, MEM_SIZE)) TH_LOG("%s", vm->error);
	EXPECT_EQ(-EEXIST, __vm_add_memory(vm, 0x8000, 0x1000));
	EXPECT_STREQ(failed("KVM_SET_USER_MEMORY_REGION", EEXIST), vm->error);
	EXPECT_EQ(1, vm->nr_mem);

	vcpu = test_add_real_mode_vcpu(vm, 0, hlt_guest_start, hlt_guest_end);
	EXPECT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	vm_destroy(vm);
}

TEST(second_irqchip)
{
	struct vm *vm;

	TEST_REQUIRE(need_irqchip());
	vm = vm_create();
	ASSERT_EQ(0, __vm_create_irqchip(vm)) TH_LOG("%s", vm->error);
	EXPECT_EQ(-EEXIST, __vm_create_irqchip(vm));
	EXPECT_STREQ(failed("KVM_CREATE_IRQCHIP", EEXIST), vm->error);
	EXPECT_TRUE(vm->has_irqchip);
	vm_destroy(vm);
}

/* Past the library's own check (irqchip_conditional), to KVM's. */
TEST(irqchip_after_vcpu)
{
	struct vm *vm;

	TEST_REQUIRE(need_irqchip());
	vm = vm_create();
	vcpu_add(vm);
	EXPECT_EQ(-EINVAL, __vm_ioctl(vm, KVM_CREATE_IRQCHIP, 0));
	EXPECT_STREQ(failed("KVM_CREATE_IRQCHIP", EINVAL), vm->error);
	vm_destroy(vm);
}

/* CR0.PG without CR0.PE: KVM_SET_SREGS refuses it. */
TEST(impossible_registers)
{
	struct vcpu *vcpu = test_real_mode_guest(MEM_SIZE, 0, hlt_guest_start, hlt_guest_end);
	struct kvm_sregs sregs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cr0 = (sregs.cr0 | 0x80000000u) & ~1u;
	EXPECT_EQ(-EINVAL, __vcpu_ioctl(vcpu, KVM_SET_SREGS, &sregs));
	EXPECT_STREQ(failed("KVM_SET_SREGS", EINVAL), vcpu->vm->error);
	EXPECT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	vm_destroy(vcpu->vm);
}

/*
 * vm_add_memory() over a slot: one line on stderr, exit status 126. In a
 * child of its own, with a VM of its own (KVM serves a VM to the process
 * that made it only).
 */
TEST(plain_form_reports_and_exits)
{
	char err[256], want[256];
	int pipefd[2], status;
	ssize_t len;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	fflush(stdout);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct vm *vm = vm_create();

		dup2(pipefd[1], STDERR_FILENO);
		vm_add_memory(vm, 0, MEM_SIZE);
		vm_add_memory(vm, 0x8000, 0x1000);
		_exit(0);
	}
	close(pipefd[1]);
	for (size_t got = 0;; got += len) {
		len = read(pipefd[0], err + got, sizeof(err) - 1 - got);
		if (len <= 0) {
			err[got] = '\0';
			break;
		}
	}
	close(pipefd[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	snprintf(want, sizeof(want), "mini-kvm: %s\n", failed("KVM_SET_USER_MEMORY_REGION", EEXIST));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(MINI_KVM_EXIT_CANNOT_START, WEXITSTATUS(status));
	EXPECT_STREQ(want, err);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
