// SPDX-License-Identifier: MIT
/*
 * seccomp: the mini-kvm command's system-call filter
 * (tools/mini-kvm-seccomp.c), installed in child processes of this test:
 * a call the run loop makes passes; a forbidden one is not made, and the
 * process ends with status 159 and one line on stderr naming the call (an
 * ioctl with its request); the gdb stub's calls pass only with
 * SECCOMP_WITH_GDB; threads made under it are under it. No
 * KVM needed: that the guests run under it is what the rest of the suite
 * checks, as the filter is on by default.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm.h" /* tools/: seccomp_install() */
#include "test_util.h"

struct outcome {
	int status; /* the exit status, or 128 + the signal */
	char err[512]; /* what it wrote to stderr */
};

/* Runs body in a child under the filter (flags); its end and stderr. */
static struct outcome under_filter(unsigned int flags, void (*body)(void))
{
	struct outcome o = { 0 };
	char why[200];
	int pipefd[2], st;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		ksft_exit_fail_msg("pipe: %s\n", strerror(errno));
	pid = fork();
	if (pid < 0)
		ksft_exit_fail_msg("fork: %s\n", strerror(errno));
	if (pid == 0) {
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		if (seccomp_install(flags, NULL, why, sizeof(why))) {
			fprintf(stderr, "install: %s\n", why);
			_exit(99);
		}
		body();
		_exit(0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], o.err, sizeof(o.err) - 1);
	o.err[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	waitpid(pid, &st, 0);
	o.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return o;
}

static void run_loop_calls(void)
{
	struct timespec ts;
	char c = 'x';

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (write(STDOUT_FILENO, &c, 0) < 0 || getpid() <= 0)
		_exit(1);
	free(malloc(1 << 20)); /* an mmap, never executable */
}

static void opens_a_file(void)
{
	open("/dev/null", O_RDONLY);
	_exit(0); /* not reached: the call is not made */
}

static void creates_a_vm(void)
{
	ioctl(-1, KVM_CREATE_VM, 0);
	_exit(0);
}

static void sends(void)
{
	/* On no socket: EBADF, if the filter lets the call through at all. */
	send(-1, "", 0, 0);
}

static void *forbidden_in_a_thread(void *arg)
{
	(void)arg;
	open("/dev/null", O_RDONLY);
	return NULL;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void forks(void)
{
	fork();
	_exit(0);
}

TEST(run_loop_calls_pass)
{
	struct outcome o = under_filter(0, run_loop_calls);

	EXPECT_EQ(0, o.status) TH_LOG("stderr: %s", o.err);
	EXPECT_STREQ("", o.err);
}

TEST(a_forbidden_call_is_named_and_ends_with_159)
{
	struct outcome o = under_filter(0, opens_a_file);

	EXPECT_EQ(159, o.status);
	EXPECT_NE(NULL, strstr(o.err, "mini-kvm: forbidden system call: openat (257)"))
	TH_LOG("stderr: %s", o.err);
	EXPECT_NE(NULL, strstr(o.err, "--no-seccomp")) TH_LOG("stderr: %s", o.err);
	EXPECT_EQ(1, count_lines(o.err)) TH_LOG("stderr: %s", o.err);
}

TEST(a_forbidden_ioctl_names_its_request)
{
	struct outcome o = under_filter(0, creates_a_vm);
	char want[80];

	snprintf(want, sizeof(want), "ioctl (16) on fd 4294967295, request %#x",
		 (unsigned int)KVM_CREATE_VM);
	EXPECT_EQ(159, o.status);
	EXPECT_NE(NULL, strstr(o.err, want)) TH_LOG("want '%s'; stderr: %s", want, o.err);
}

TEST(no_new_processes)
{
	struct outcome o = under_filter(0, forks);

	EXPECT_EQ(159, o.status);
	EXPECT_NE(NULL, strstr(o.err, "forbidden system call")) TH_LOG("stderr: %s", o.err);
}

TEST(the_gdb_stubs_calls_only_with_gdb)
{
	struct outcome without = under_filter(0, sends);
	struct outcome with = under_filter(SECCOMP_WITH_GDB, sends);

	EXPECT_EQ(159, without.status);
	EXPECT_NE(NULL, strstr(without.err, "sendto (44)")) TH_LOG("stderr: %s", without.err);
	EXPECT_EQ(0, with.status) TH_LOG("stderr: %s", with.err);
}

/* --smp's vCPU threads start once the guest runs, under the filter. */
static void a_thread_opens(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, forbidden_in_a_thread, NULL))
		_exit(98);
	pthread_join(t, NULL);
}

TEST(a_new_thread_is_under_it)
{
	struct outcome o = under_filter(0, a_thread_opens);

	EXPECT_EQ(159, o.status) TH_LOG("stderr: %s", o.err);
	EXPECT_NE(NULL, strstr(o.err, "openat")) TH_LOG("stderr: %s", o.err);
}

TEST_HARNESS_MAIN
