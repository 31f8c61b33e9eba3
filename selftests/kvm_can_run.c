// SPDX-License-Identifier: MIT
/*
 * kvm_can_run: the library's answer to "does this host's KVM run guests
 * of this mode?" (lib/probe.c), on which every skip of the suite rests,
 * is right in both directions. Real mode: yes on every KVM we know.
 * Protected mode: no exactly on kvm_pvm (its instruction emulator stops
 * at a protected-mode iret), yes on kvm_intel and kvm_amd (the helper
 * VM), so that where protected mode works nothing skips for it. A
 * protected-mode guest of our own, other than the probe's, then really
 * crashes or runs as the answer said. A "no" names the KVM, and the skip
 * it makes says where to run the test instead.
 */
#include "test_util.h"

#define LOAD_ADDR 0x1000
#define GDT_ADDR 0x500
#define IDT_ADDR 0x2000
#define CALLS 3
#define ABS(label) XSTR(LOAD_ADDR) " + " #label " - iret_guest_start"

/* Three int $0x40 through its own IDT; the handler counts and irets. */
GUEST_CODE(iret_guest, ".code32",
	"	mov $0x8000, %esp\n"
	"	movl $(0x00080000 + " ABS(handler) "), " XSTR(IDT_ADDR) " + 0x40 * 8\n"
	"	movl $0x00008e00, " XSTR(IDT_ADDR) " + 0x40 * 8 + 4\n"
	"	lidt " ABS(idtr) "\n"
	"	xor %ebx, %ebx\n"
	"	int $0x40\n int $0x40\n int $0x40\n"
	HC(HC_EXIT)
	"handler: inc %ebx\n iret\n"
	"idtr: .word 256 * 8 - 1\n .long " XSTR(IDT_ADDR) "\n");

static const char *module;

/*
 * What the answers are checked against: a /dev/kvm that opens, and its
 * vendor module, found here apart from the library.
 */
static const char *need_known_kvm(void)
{
	static const char *const modules[] = { "kvm_pvm", "kvm_intel", "kvm_amd" };
	char path[64];
	int fd = __kvm_open();

	if (fd < 0)
		return kvm_open_diagnosis(-fd);
	close(fd);
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]) && !module; i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", modules[i]);
		if (!access(path, F_OK))
			module = modules[i];
	}
	return module ? NULL : "a KVM module other than kvm_intel, kvm_amd and kvm_pvm";
}

TEST(answer_matches_the_module)
{
	bool pvm = !strcmp(module, "kvm_pvm");

	TH_LOG("%s: real mode %s, protected mode %s", module,
	       kvm_can_run(KVM_MODE_REAL, NULL) ? "yes" : "no",
	       kvm_can_run(KVM_MODE_PROTECTED, NULL) ? "yes" : "no");
	EXPECT_TRUE(kvm_can_run(KVM_MODE_REAL, NULL));
	EXPECT_EQ(!pvm, kvm_can_run(KVM_MODE_PROTECTED, NULL));
}

/* Yes or no, the answer names the KVM; a no says what failed, its skip where to go. */
TEST(answer_names_the_kvm)
{
	const char *why, *skip = need_mode(KVM_MODE_PROTECTED);
	char where[128];

	kvm_can_run(KVM_MODE_REAL, &why);
	EXPECT_NE(NULL, strstr(why, module)) TH_LOG("%s", why);
	kvm_can_run(KVM_MODE_PROTECTED, &why);
	EXPECT_NE(NULL, strstr(why, module)) TH_LOG("%s", why);
	if (kvm_can_run(KVM_MODE_PROTECTED, NULL)) {
		EXPECT_EQ(NULL, skip) TH_LOG("%s", skip);
		return;
	}
	EXPECT_NE(NULL, strstr(why, "cannot run protected-mode guests (")) TH_LOG("%s", why);
	snprintf(where, sizeof(where), "ci/nested-kvm %s", program_invocation_name);
	ASSERT_NE(NULL, skip);
	EXPECT_NE(NULL, strstr(skip, why)) TH_LOG("%s", skip);
	EXPECT_NE(NULL, strstr(skip, where)) TH_LOG("%s", skip);
}

/* A protected-mode guest that irets: it runs where the answer is yes. */
TEST(protected_mode_guest_runs_as_answered)
{
	struct guest_spec spec = {
		.mem_size = 1 << 20,
		.mode = GUEST_PROTECTED,
		.image = iret_guest_start,
		.len = iret_guest_end - iret_guest_start,
		.load_gpa = LOAD_ADDR,
	};
	struct vcpu *vcpu = vm_create_with_one_vcpu(&spec);
	enum vcpu_result result;

	vm_write_flat_gdt(vcpu->vm, GDT_ADDR);
	vcpu_load_gdt(vcpu, GDT_ADDR, 3 * 8 - 1);
	result = vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS);
	TH_LOG("%s: %s", vcpu_result_name(result), vcpu->why);
	if (kvm_can_run(KVM_MODE_PROTECTED, NULL)) {
		EXPECT_EQ(VCPU_EXITED, result);
		EXPECT_EQ(CALLS, vcpu->exit_status);
	} else {
		EXPECT_EQ(VCPU_CRASHED, result);
	}
	vm_destroy(vcpu->vm);
}

KVM_TEST_HARNESS_MAIN(need_known_kvm())
