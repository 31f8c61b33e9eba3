// SPDX-License-Identifier: MIT
/*
 * os1k: the 1K OS (guests/os1k), embedded in this binary, boots as a
 * multiboot kernel in protected mode with the irqchip and PIT, and each
 * scripted session through its shell gives exactly its golden transcript
 * (guests/os1k/tests/NAME.in -> NAME.out, also embedded): the nine
 * programs, user programs killed for faulting while the shell survives,
 * timer ticks moving while the guest idles, a kernel panic, and end of
 * input anywhere ending the OS with status 0. Needs a KVM that runs
 * protected mode, and its irqchip.
 */
#include "test_util.h"

#define OS1K_MEM (16 << 20)

extern const uint8_t guest_os1k_start[], guest_os1k_end[];

/* NAME_in and NAME_out, NUL-terminated, from the golden files. */
#define GOLDEN(name)                                                           \
	asm(".pushsection .rodata.golden." #name ",\"a\"\n"                    \
	    #name "_in: .incbin \"guests/os1k/tests/" #name ".in\"\n .byte 0\n" \
	    #name "_out: .incbin \"guests/os1k/tests/" #name ".out\"\n .byte 0\n" \
	    ".popsection\n");                                                   \
	extern const char name##_in[], name##_out[]

GOLDEN(tables);
GOLDEN(counter);
GOLDEN(echo);
GOLDEN(fibonacci);
GOLDEN(primes);
GOLDEN(calculator);
GOLDEN(factorials);
GOLDEN(gcd);
GOLDEN(about);
GOLDEN(shell);
GOLDEN(faults);
GOLDEN(ticks);
GOLDEN(panic);
GOLDEN(eof_echo);
GOLDEN(eof_menu);

FIXTURE(os1k) {
	struct vm *vm;
	struct vcpu *vcpu;
	struct test_console tc;
};

FIXTURE_VARIANT(os1k) {
	const char *input;
	const char *golden;
	int exit_status;
};

#define SESSION(name, status)                                               \
	FIXTURE_VARIANT_ADD(os1k, name) { .input = name##_in, .golden = name##_out, \
					   .exit_status = status }
SESSION(tables, 0);
SESSION(counter, 0);
SESSION(echo, 0);
SESSION(fibonacci, 0);
SESSION(primes, 0);
SESSION(calculator, 0);
SESSION(factorials, 0);
SESSION(gcd, 0);
SESSION(about, 0);
SESSION(shell, 0);
SESSION(faults, 0);
SESSION(ticks, 0);
SESSION(panic, 1);
SESSION(eof_echo, 0);
SESSION(eof_menu, 0);

/* Booted the way a multiboot loader leaves a kernel: flat, paging off. */
FIXTURE_SETUP(os1k)
{
	struct guest_spec spec = {
		.mem_size = OS1K_MEM,
		.mode = GUEST_PROTECTED,
		.image = guest_os1k_start,
		.len = guest_os1k_end - guest_os1k_start,
		.irqchip = true,
	};
	struct kvm_regs regs;

	self->vcpu = vm_create_with_one_vcpu(&spec);
	self->vm = self->vcpu->vm;
	vcpu_regs_get(self->vcpu, &regs);
	regs.rax = MULTIBOOT_LOADER_MAGIC;
	vcpu_regs_set(self->vcpu, &regs);
	test_console_attach(self->vcpu, &self->tc, variant->input);
}

FIXTURE_TEARDOWN(os1k)
{
	vm_destroy(self->vm);
}

/* Tick counts vary: "ticks since boot: 123" becomes "ticks since boot: N". */
static void mask_ticks(char *text)
{
	static const char *const labels[] = { "\nticks since boot: ", "\nticks before: ",
					      "\nticks after: " };

	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		for (char *p = strstr(text, labels[i]); p; p = strstr(p + 1, labels[i])) {
			char *digits = p + strlen(labels[i]);
			size_t n = strspn(digits, "0123456789");

			if (n) {
				*digits = 'N';
				memmove(digits + 1, digits + n, strlen(digits + n) + 1);
			}
		}
	}
}

TEST_F(os1k, session_matches_golden)
{
	ASSERT_EQ(VCPU_EXITED, vcpu_run(self->vcpu, 60000)) TH_LOG("%s", self->vcpu->why);
	EXPECT_EQ(variant->exit_status, self->vcpu->exit_status);
	mask_ticks(self->tc.out);
	EXPECT_STREQ(variant->golden, self->tc.out);
	EXPECT_EQ(0, self->vcpu->stats.exits[KVM_EXIT_HLT]) TH_LOG("hlt left the kernel");
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_PROTECTED) ?: need_irqchip())
