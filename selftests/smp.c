// SPDX-License-Identifier: MIT
/*
 * smp: the command's --smp=N, as a guest sees it, without kvm-unit-tests.
 * The boot CPU reads the CPU count from fw_cfg, enables its LAPIC, copies
 * a real-mode trampoline to 0x8000 and sends INIT and SIPI to all the
 * others. Each application processor sets its APIC ID (from CPUID) in a
 * shared mask and counts itself in; the boot CPU waits until all have and
 * ends the VM with the mask as its status. So:
 * - fw_cfg's count is N, and N-1 other CPUs start, each with its own APIC
 *   ID: the status is the mask of IDs 1..N-1 (0 for N = 1);
 * - they start at the SIPI's vector, in real mode (KVM's INIT state until
 *   then: the trampoline is not there before the boot CPU copies it);
 * - any vCPU ends the VM: in the second variant the boot CPU spins for
 *   ever and an application processor's HC_EXIT 42 ends mini-kvm with 42,
 *   every vCPU stopped, before the time limit (124).
 */
#include <spawn.h>
#include <sys/wait.h>

#include "test_util.h"

#define SMP_TIMEOUT "--timeout=60"
#define AP_COUNT 0x7000 /* how many APs have started */
#define AP_MASK 0x7004 /* a bit per started AP's APIC ID */
#define AP_ENDS 0x7008 /* non-zero: the APs end the VM */
#define TRAMPOLINE 0x8000 /* SIPI vector 0x08 */
#define LOAD 0x100000 /* where --mode=protected loads a flat image */
#define AT(label) "(" #label " - smp_guest_start + " XSTR(LOAD) ")"

GUEST_CODE(smp_guest, ".code32",
	/* The LAPIC on (SVR bit 8), the CPU count from fw_cfg's NB_CPUS. */
	"	orl $0x100, 0xfee000f0\n"
	"	mov $0x510, %dx\n mov $0x05, %ax\n out %ax, (%dx)\n"
	"	mov $0x511, %dx\n xor %edi, %edi\n in (%dx), %al\n movzbl %al, %edi\n"
	"	dec %edi\n" /* the APs to wait for */
	"	movzbl " AT(smp_ap_ends) ", %eax\n mov %eax, " XSTR(AP_ENDS) "\n"
	/* No stack here (ESP is whatever the loader left): EBP keeps EDI. */
	"	mov %edi, %ebp\n mov $" AT(smp_trampoline) ", %esi\n mov $" XSTR(TRAMPOLINE) ", %edi\n"
	"	mov $(smp_trampoline_end - smp_trampoline), %ecx\n rep movsb\n mov %ebp, %edi\n"
	/* INIT, then SIPI twice, to all excluding self (ICR at 0xfee00300). */
	"	movl $0x000c4500, 0xfee00300\n"
	"	movl $0x000c4608, 0xfee00300\n"
	"	movl $0x000c4608, 0xfee00300\n"
	"	cmpl $0, " XSTR(AP_ENDS) "\n jne smp_spin\n"
	"smp_wait: pause\n cmp " XSTR(AP_COUNT) ", %edi\n jne smp_wait\n"
	"	mov " XSTR(AP_MASK) ", %ebx\n" HC(HC_EXIT)
	"smp_spin: pause\n jmp smp_spin\n"
	".globl smp_ap_ends\nsmp_ap_ends: .byte 0\n"
	/* At 0x0800:0000 in real mode, DS = 0. */
	"smp_trampoline: .code16\n"
	"	mov $1, %eax\n cpuid\n shr $24, %ebx\n"
	"	lock btsl %ebx, " XSTR(AP_MASK) "\n"
	"	lock incl " XSTR(AP_COUNT) "\n"
	"	cmpl $0, " XSTR(AP_ENDS) "\n je 1f\n"
	"	mov $42, %ebx\n" HC(HC_EXIT)
	"1:	cli\n hlt\n jmp 1b\n"
	"smp_trampoline_end: .code32\n");

/* The mini-kvm command: $MINI_KVM, beside this test (installed), or above it. */
static const char *mini_kvm_path(void)
{
	static char path[4096];
	const char *env = getenv("MINI_KVM");
	const char *self = program_invocation_name;
	const char *slash = strrchr(self, '/');
	int dir = slash ? slash - self + 1 : 0;

	if (env && *env)
		return env;
	snprintf(path, sizeof(path), "%.*smini-kvm", dir, self);
	if (access(path, X_OK) == 0)
		return path;
	snprintf(path, sizeof(path), "%.*s../mini-kvm", dir, self);
	return path;
}

/* Runs the guest (ap_ends patched in) with --smp=smp; returns its exit status. */
static int run_smp(struct __test_metadata *_metadata, int smp, bool ap_ends)
{
	char image[] = "/tmp/smp-guest-XXXXXX", smp_opt[16];
	size_t len = smp_guest_end - smp_guest_start;
	uint8_t *code = malloc(len);
	extern const uint8_t smp_ap_ends[];
	int fd = mkstemp(image), status;
	pid_t pid;

	ASSERT_NE(-1, fd);
	ASSERT_NE(NULL, code);
	memcpy(code, smp_guest_start, len);
	code[smp_ap_ends - smp_guest_start] = ap_ends;
	ASSERT_EQ((ssize_t)len, write(fd, code, len));
	close(fd);
	free(code);
	snprintf(smp_opt, sizeof(smp_opt), "--smp=%d", smp);
	char *argv[] = { (char *)mini_kvm_path(), "--mode=protected", SMP_TIMEOUT, smp_opt,
			 image, NULL };
	ASSERT_EQ(0, posix_spawn(&pid, argv[0], NULL, NULL, argv, environ)) TH_LOG("%s", argv[0]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	unlink(image);
	ASSERT_TRUE(WIFEXITED(status));
	return WEXITSTATUS(status);
}

TEST(one_cpu_starts_no_other)
{
	EXPECT_EQ(0, run_smp(_metadata, 1, false));
}

TEST(two_cpus_the_other_has_apic_id_1)
{
	EXPECT_EQ(0x2, run_smp(_metadata, 2, false));
}

TEST(four_cpus_each_its_own_apic_id)
{
	EXPECT_EQ(0xe, run_smp(_metadata, 4, false));
}

TEST(an_application_processor_ends_the_vm)
{
	EXPECT_EQ(42, run_smp(_metadata, 2, true)) TH_LOG("124: the VM did not end with it");
}

/* Protected mode and the in-kernel irqchip, whose LAPICs carry INIT and SIPI. */
static const char *need_smp(void)
{
	const char *why = need_mode(KVM_MODE_PROTECTED);

	return why ? why : need_irqchip();
}

KVM_TEST_HARNESS_MAIN(need_smp())
