// SPDX-License-Identifier: MIT
/*
 * The seccomp allow-list of the mini-kvm command. Once every guest is set
 * up, and before the first KVM_RUN, the process may make only the system
 * calls that its run loop, devices and console need; the filter covers
 * every thread (SECCOMP_FILTER_FLAG_TSYNC), and the threads made later
 * inherit it. Anything else is trapped: the SIGSYS handler names the call
 * on stderr and ends the process with MINI_KVM_EXIT_SECCOMP (128 + SIGSYS),
 * the call itself never made. The list was found with strace -f over the
 * test suite, natively and in the helper VM (docs/robustness.md).
 *
 * The filter is classic BPF, built from the table below: per rule, the
 * system call's number and at most two tests of its arguments (their low
 * 32 bits, which is all the kernel reads of an fd, an ioctl request, a pid
 * or a flag word). Not x86-64's own system calls (int 0x80's i386 ones,
 * x32's) are trapped whatever their number.
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "mini-kvm.h"

enum arg_test {
	ARG_NONE,
	ARG_EQ, /* the argument equals value */
	ARG_SELF, /* the argument is our own process ID */
	ARG_ANY_OF, /* at least one of value's bits is set */
	ARG_NONE_OF, /* none of value's bits is set */
};

struct arg_rule {
	enum arg_test test;
	unsigned int arg;
	uint32_t value;
};

struct rule {
	unsigned int nr;
	uint32_t action;
	struct arg_rule args[2];
};

/* clang-format off */
#define ALLOW(call) { __NR_##call, SECCOMP_RET_ALLOW, { { ARG_NONE } } }
#define ALLOW_IF(call, test, arg, value) \
	{ __NR_##call, SECCOMP_RET_ALLOW, { { test, arg, value } } }
#define IOCTL(request) ALLOW_IF(ioctl, ARG_EQ, 1, request)
#define IOCTL_ON(fd, request) \
	{ __NR_ioctl, SECCOMP_RET_ALLOW, { { ARG_EQ, 1, request }, { ARG_EQ, 0, fd } } }
/* clang-format on */

/* The most frequent first: each system call walks the list to its rule. */
/* clang-format off */
static const struct rule run_rules[] = {
	/* The run loop: every exit, the hypercalls' registers (without
	 * KVM_CAP_SYNC_REGS, and HC_WRITE's segments), the kick's mask on
	 * each vcpu_run(), paging for HC_WRITE and the crash dump, and an
	 * ACPI S3 resume's real mode. */
	IOCTL(KVM_RUN),
	IOCTL(KVM_GET_SREGS),
	IOCTL(KVM_GET_REGS),
	IOCTL(KVM_SET_REGS),
	IOCTL(KVM_SET_SREGS),
	IOCTL(KVM_SET_SIGNAL_MASK),
	IOCTL(KVM_TRANSLATE),
	/* The UART's interrupt, pc-testdev's IRQ lines. */
	IOCTL(KVM_IRQ_LINE),
	/* The guests' output, stdin, the console's waits for both. */
	ALLOW(write),
	ALLOW(read),
	ALLOW(poll),
	ALLOW(ppoll),
	/* Locks, joins, barriers. */
	ALLOW(futex),
	/* The kick (vcpu_kick(), the time limit) and its taking back, the
	 * main thread's sigwaitinfo(), raise() on a fatal signal. */
	ALLOW(rt_sigtimedwait),
	ALLOW(rt_sigprocmask),
	ALLOW(rt_sigaction),
	ALLOW(rt_sigreturn),
	ALLOW(getpid),
	ALLOW(gettid),
	ALLOW_IF(tgkill, ARG_SELF, 0, 0),
	/* Ctrl-A x: the console's input thread stops us as SIGINT would. */
	ALLOW_IF(kill, ARG_SELF, 0, 0),
	/* Each vcpu_run()'s time limit. */
	ALLOW(timer_create),
	ALLOW(timer_settime),
	ALLOW(timer_delete),
	/* Clocks where the vDSO falls back to the kernel; the console's input
	 * thread waits for a Linux guest's UART to take more. */
	ALLOW(clock_gettime),
	ALLOW(clock_nanosleep),
	/* A timed wait interrupted by SIGSTOP and SIGCONT resumes with it. */
	ALLOW(restart_syscall),
	/* malloc() (--trace's buffers are allocated on first use), stdio's
	 * buffers, thread stacks, pc-testdev's page flush: never executable. */
	ALLOW(brk),
	ALLOW_IF(mmap, ARG_NONE_OF, 2, PROT_EXEC),
	ALLOW_IF(mprotect, ARG_NONE_OF, 2, PROT_EXEC),
	ALLOW(munmap),
	ALLOW_IF(madvise, ARG_EQ, 2, MADV_DONTNEED),
	/* --smp's vCPU threads start once the guest runs. clone3's flags lie
	 * in memory, out of the filter's reach: ENOSYS makes glibc use
	 * clone, whose flags must make a thread, never a process. */
	ALLOW_IF(clone, ARG_ANY_OF, 0, CLONE_THREAD),
	{ __NR_clone3, SECCOMP_RET_ERRNO | ENOSYS, { { ARG_NONE } } },
	ALLOW(set_robust_list),
	ALLOW(rseq),
	/* The terminal, given back at exit (tcsetattr(TCSAFLUSH)). */
	IOCTL_ON(STDIN_FILENO, TCGETS),
	IOCTL_ON(STDIN_FILENO, TCSETSF),
	/* The --trace file, written and closed at the end. */
	ALLOW(close),
	ALLOW(exit),
	ALLOW(exit_group),
};

/*
 * SECCOMP_WITH_GDB: the gdb stub (tools/mini-kvm-gdb.c), its connection
 * accepted at set-up: send() on it, the debug modes of its steps and
 * breakpoints.
 */
static const struct rule gdb_rules[] = {
	ALLOW(sendto),
	ALLOW(recvfrom),
	IOCTL(KVM_SET_GUEST_DEBUG),
};
/* clang-format on */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
/* Per rule: the number (2), each argument (2), the verdict (1). */
#define PROG_MAX ((ARRAY_SIZE(run_rules) + ARRAY_SIZE(gdb_rules)) * 7 + 8)

struct prog {
	struct sock_filter insns[PROG_MAX];
	unsigned short len;
};

static void emit(struct prog *p, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	p->insns[p->len++] = (struct sock_filter)BPF_JUMP(code, k, jt, jf);
}

/* jf jumps past the rest of the rule: skip instructions. */
static void emit_arg_test(struct prog *p, const struct arg_rule *a, uint8_t skip)
{
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[a->arg]), 0, 0);
	switch (a->test) {
	case ARG_EQ:
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, a->value, 0, skip);
		break;
	case ARG_SELF:
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, getpid(), 0, skip);
		break;
	case ARG_ANY_OF:
		emit(p, BPF_JMP | BPF_JSET | BPF_K, a->value, 0, skip);
		break;
	case ARG_NONE_OF:
		emit(p, BPF_JMP | BPF_JSET | BPF_K, a->value, skip, 0);
		break;
	case ARG_NONE:
		break;
	}
}

static void emit_rules(struct prog *p, const struct rule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = &rules[i];
		int nargs = (r->args[0].test != ARG_NONE) + (r->args[1].test != ARG_NONE);

		emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
		emit(p, BPF_JMP | BPF_JEQ | BPF_K, r->nr, 0, 2 * nargs + 1);
		for (int a = 0; a < nargs; a++)
			emit_arg_test(p, &r->args[a], 2 * (nargs - a - 1) + 1);
		emit(p, BPF_RET | BPF_K, r->action, 0, 0);
	}
}

static void build(struct prog *p, unsigned int flags)
{
	p->len = 0;
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
	emit(p, BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
	emit(p, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
	emit(p, BPF_JMP | BPF_JGE | BPF_K, __X32_SYSCALL_BIT, 0, 1);
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
	emit_rules(p, run_rules, ARRAY_SIZE(run_rules));
	if (flags & SECCOMP_WITH_GDB)
		emit_rules(p, gdb_rules, ARRAY_SIZE(gdb_rules));
	emit(p, BPF_RET | BPF_K, SECCOMP_RET_TRAP, 0, 0);
}

/* ---- the SIGSYS handler: async-signal-safe, one write(), then _exit() ---- */

/* Every x86-64 system call's name, from <asm/unistd_64.h> (the Makefile). */
static const char *const syscall_names[] = {
#include "syscall_names.h"
};

static void (*before_exit)(void);

struct msg {
	char buf[256];
	size_t len;
};

static void put(struct msg *m, const char *s)
{
	while (*s && m->len < sizeof(m->buf))
		m->buf[m->len++] = *s++;
}

static void put_num(struct msg *m, unsigned long long v, unsigned int base)
{
	char digits[24];
	int n = 0;

	if (base == 16)
		put(m, "0x");
	do
		digits[n++] = "0123456789abcdef"[v % base];
	while ((v /= base));
	while (n && m->len < sizeof(m->buf))
		m->buf[m->len++] = digits[--n];
}

static void forbidden(int sig, siginfo_t *si, void *uc)
{
	const greg_t *regs = ((ucontext_t *)uc)->uc_mcontext.gregs;
	unsigned int nr = si->si_syscall;
	struct msg m = { .len = 0 };

	(void)sig;
	put(&m, "mini-kvm: forbidden system call: ");
	if (si->si_arch != AUDIT_ARCH_X86_64) {
		put(&m, "number ");
		put_num(&m, nr, 10);
		put(&m, " of another ABI (int 0x80's i386)");
	} else if (nr & __X32_SYSCALL_BIT) {
		put(&m, "x32 number ");
		put_num(&m, nr & ~__X32_SYSCALL_BIT, 10);
	} else {
		put(&m, nr < ARRAY_SIZE(syscall_names) && syscall_names[nr] ? syscall_names[nr]
									    : "unknown");
		put(&m, " (");
		put_num(&m, nr, 10);
		put(&m, ")");
	}
	if (si->si_arch == AUDIT_ARCH_X86_64 && nr == __NR_ioctl) {
		put(&m, " on fd ");
		put_num(&m, (unsigned int)regs[REG_RDI], 10);
		put(&m, ", request ");
		put_num(&m, (unsigned int)regs[REG_RSI], 16);
	}
	put(&m, "; stopped by the seccomp filter (--no-seccomp turns it off)\n");
	if (write(STDERR_FILENO, m.buf, m.len) < 0)
		m.len = 0; /* nowhere to say it: the status still does */
	if (before_exit)
		before_exit();
	_exit(MINI_KVM_EXIT_SECCOMP);
}

int seccomp_install(unsigned int flags, void (*hook)(void), char *err, size_t errlen)
{
	struct sigaction sa = { .sa_sigaction = forbidden, .sa_flags = SA_SIGINFO };
	static struct prog p;
	struct sock_fprog fprog;
	long ret;

	build(&p, flags);
	fprog = (struct sock_fprog){ .len = p.len, .filter = p.insns };
	before_exit = hook;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		ret = -errno;
		snprintf(err, errlen, "cannot prepare the seccomp filter: %s", strerror(-ret));
		return ret;
	}
	ret = syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, &fprog);
	if (ret > 0) {
		snprintf(err, errlen, "cannot put thread %ld under the seccomp filter", ret);
		return -EAGAIN;
	}
	if (ret) {
		ret = -errno;
		snprintf(err, errlen, "cannot install the seccomp filter: %s", strerror(-ret));
	}
	return ret;
}
