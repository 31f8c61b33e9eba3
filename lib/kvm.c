// SPDX-License-Identifier: MIT
/*
 * /dev/kvm itself: opening it with a diagnosis a newcomer can act on,
 * capability checks, exit-reason names and error reporting.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

void kvm_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("mini-kvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(MINI_KVM_EXIT_CANNOT_START);
}

long __kvm_ioctl(int fd, unsigned long cmd, const char *name, void *arg, char *err, size_t errlen)
{
	long ret = ioctl(fd, cmd, arg);

	if (ret >= 0)
		return ret;
	ret = -errno;
	if (err)
		snprintf(err, errlen, "%s failed: %s (errno %ld)", name, strerror(-ret), -ret);
	return ret;
}

long kvm_ioctl_or_die(int fd, unsigned long cmd, const char *name, void *arg)
{
	char err[160];
	long ret = __kvm_ioctl(fd, cmd, name, arg, err, sizeof(err));

	if (ret < 0)
		kvm_die("%s", err);
	return ret;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool cpu_has_virt_flag(void)
{
	char line[4096];
	bool found = false;
	FILE *f = fopen("/proc/cpuinfo", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "flags", 5) &&
			(strstr(line, " vmx") || strstr(line, " svm"));
	fclose(f);
	return found;
}

/* Returns an open /dev/kvm, or -errno. */
int __kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version;

	if (fd < 0)
		return -errno;
	version = __kvm_fd_ioctl(fd, KVM_GET_API_VERSION, 0, NULL, 0);
	if (version != KVM_API_VERSION) {
		close(fd);
		return -EPROTO;
	}
	return fd;
}

/* One line saying why /dev/kvm could not be opened and what to do. */
const char *kvm_open_diagnosis(int err)
{
	switch (err) {
	case ENOENT:
		if (cpu_has_virt_flag())
			return "/dev/kvm does not exist: the KVM module is not loaded "
			       "(try 'sudo modprobe kvm_intel' or 'sudo modprobe kvm_amd'), "
			       "or run inside the helper VM: ci/nested-kvm ./mini-kvm ...";
		return "/dev/kvm does not exist: this CPU shows no VT-x/AMD-V "
		       "(off in the firmware, or a VM without nested virtualization); "
		       "run inside the helper VM instead: ci/nested-kvm ./mini-kvm ...";
	case EACCES:
	case EPERM:
		return "/dev/kvm: permission denied: add yourself to its group "
		       "('sudo usermod -aG kvm $USER', then log in again) or run as root; "
		       "or use the helper VM: ci/nested-kvm ./mini-kvm ...";
	case ENXIO:
	case ENODEV:
		return "/dev/kvm exists but no KVM module serves it (module not loaded or "
		       "it refused to bind); run inside the helper VM: "
		       "ci/nested-kvm ./mini-kvm ...";
	case EPROTO:
		return "/dev/kvm speaks an unexpected KVM_GET_API_VERSION";
	default:
		return "/dev/kvm could not be opened; run inside the helper VM: "
		       "ci/nested-kvm ./mini-kvm ...";
	}
}

int kvm_open(void)
{
	int fd = __kvm_open();

	if (fd < 0)
		kvm_die("%s (%s)", kvm_open_diagnosis(-fd), strerror(-fd));
	return fd;
}

/* KVM_CHECK_EXTENSION: > 0 when the capability is there. */
int kvm_check_cap(int kvm_fd, long cap)
{
	long ret = __kvm_fd_ioctl(kvm_fd, KVM_CHECK_EXTENSION, cap, NULL, 0);

	return ret < 0 ? 0 : ret;
}

#define EXIT_NAME(x) [KVM_EXIT_##x] = "KVM_EXIT_" #x
/* A table reads better in columns. */
/* clang-format off */
static const char *const exit_names[] = {
	EXIT_NAME(UNKNOWN),	    EXIT_NAME(EXCEPTION),	EXIT_NAME(IO),
	EXIT_NAME(HYPERCALL),	    EXIT_NAME(DEBUG),		EXIT_NAME(HLT),
	EXIT_NAME(MMIO),	    EXIT_NAME(IRQ_WINDOW_OPEN), EXIT_NAME(SHUTDOWN),
	EXIT_NAME(FAIL_ENTRY),	    EXIT_NAME(INTR),		EXIT_NAME(SET_TPR),
	EXIT_NAME(TPR_ACCESS),	    EXIT_NAME(S390_SIEIC),	EXIT_NAME(S390_RESET),
	EXIT_NAME(DCR),		    EXIT_NAME(NMI),		EXIT_NAME(INTERNAL_ERROR),
	EXIT_NAME(OSI),		    EXIT_NAME(PAPR_HCALL),	EXIT_NAME(S390_UCONTROL),
	EXIT_NAME(WATCHDOG),	    EXIT_NAME(S390_TSCH),	EXIT_NAME(EPR),
	EXIT_NAME(SYSTEM_EVENT),    EXIT_NAME(S390_STSI),	EXIT_NAME(IOAPIC_EOI),
	EXIT_NAME(HYPERV),	    EXIT_NAME(ARM_NISV),	EXIT_NAME(X86_RDMSR),
	EXIT_NAME(X86_WRMSR),	    EXIT_NAME(DIRTY_RING_FULL), EXIT_NAME(AP_RESET_HOLD),
	EXIT_NAME(X86_BUS_LOCK),    EXIT_NAME(XEN),		EXIT_NAME(RISCV_SBI),
	EXIT_NAME(RISCV_CSR),	    EXIT_NAME(NOTIFY),
};
/* clang-format on */

const char *kvm_exit_reason_name(uint32_t reason)
{
	if (reason < sizeof(exit_names) / sizeof(exit_names[0]) && exit_names[reason])
		return exit_names[reason];
	return "KVM_EXIT_(unknown to these headers)";
}

/* "kvm_amd, kernel 6.1.0-27-amd64": which KVM this process talks to. */
const char *kvm_host_description(char *buf, size_t len)
{
	static const char *const modules[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	const char *module = "kvm (vendor module unknown)";
	struct utsname uts;
	char path[64];

	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", modules[i]);
		if (!access(path, F_OK))
			module = modules[i];
	}
	if (uname(&uts))
		strcpy(uts.release, "?");
	snprintf(buf, len, "%s, kernel %s", module, uts.release);
	return buf;
}
