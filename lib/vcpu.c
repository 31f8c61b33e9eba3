// SPDX-License-Identifier: MIT
/*
 * vCPUs and the run loop. KVM_RUN returns to us on every exit the kernel
 * cannot handle itself; we decode it, play the device behind it, and go
 * round again until the guest ends, crashes or runs out of time.
 *
 * The time limit is race-free: VCPU_KICK_SIGNAL stays blocked in the vCPU
 * thread and is unblocked only inside KVM_RUN (KVM_SET_SIGNAL_MASK), so a
 * kick that lands between two KVM_RUNs waits, pending, for the next one.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

static void ignore_kick(int sig)
{
	(void)sig;
}

/* Block the kick in this thread, and let KVM_RUN unblock it. */
static int vcpu_prepare_kick(struct vcpu *vcpu)
{
	struct sigaction sa = { .sa_handler = ignore_kick };
	struct {
		struct kvm_signal_mask head;
		uint8_t sigset[8]; /* the kernel's sigset_t, not glibc's */
	} mask = { .head.len = 8 };
	sigset_t set;

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &set);
	sigdelset(&set, VCPU_KICK_SIGNAL);
	memcpy(mask.sigset, &set, sizeof(mask.sigset));
	if (ioctl(vcpu->fd, KVM_SET_SIGNAL_MASK, &mask) < 0)
		return -errno;
	return 0;
}

struct vcpu *__vcpu_add(struct vm *vm, int *err)
{
	struct vcpu *vcpu = calloc(1, sizeof(*vcpu));

	*err = -ENOMEM;
	if (!vcpu)
		return NULL;
	*err = -ENOSPC;
	if (vm->nr_vcpus == VM_MAX_VCPUS)
		goto out_free;
	vcpu->vm = vm;
	vcpu->id = vm->nr_vcpus;
	vcpu->fd = ioctl(vm->fd, KVM_CREATE_VCPU, vcpu->id);
	*err = -errno;
	if (vcpu->fd < 0)
		goto out_free;
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	*err = -errno;
	if (vcpu->run == MAP_FAILED)
		goto out_close;
	if (vm->has_sync_regs)
		vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	uart_reset(&vcpu->uart);
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	*err = 0;
	return vcpu;
out_close:
	close(vcpu->fd);
out_free:
	free(vcpu);
	return NULL;
}

struct vcpu *vcpu_add(struct vm *vm)
{
	int err;
	struct vcpu *vcpu = __vcpu_add(vm, &err);

	if (!vcpu)
		kvm_die_ioctl("KVM_CREATE_VCPU", -err);
	return vcpu;
}

/*
 * With KVM_CAP_SYNC_REGS the registers travel in kvm_run on every exit,
 * so reading them costs no ioctl and writing them costs none either.
 */
void vcpu_regs_get(struct vcpu *vcpu, struct kvm_regs *regs)
{
	if (vcpu->vm->has_sync_regs)
		*regs = vcpu->run->s.regs.regs;
	else if (ioctl(vcpu->fd, KVM_GET_REGS, regs) < 0)
		kvm_die_ioctl("KVM_GET_REGS", errno);
}

void vcpu_regs_set(struct vcpu *vcpu, struct kvm_regs *regs)
{
	if (vcpu->vm->has_sync_regs) {
		vcpu->run->s.regs.regs = *regs;
		vcpu->run->kvm_dirty_regs |= KVM_SYNC_X86_REGS;
	} else if (ioctl(vcpu->fd, KVM_SET_REGS, regs) < 0) {
		kvm_die_ioctl("KVM_SET_REGS", errno);
	}
}

void vcpu_sregs_get(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	if (ioctl(vcpu->fd, KVM_GET_SREGS, sregs) < 0)
		kvm_die_ioctl("KVM_GET_SREGS", errno);
}

void vcpu_sregs_set(struct vcpu *vcpu, struct kvm_sregs *sregs)
{
	if (ioctl(vcpu->fd, KVM_SET_SREGS, sregs) < 0)
		kvm_die_ioctl("KVM_SET_SREGS", errno);
}

/* One KVM_RUN. Returns 0 or -errno (-EINTR when kicked). */
int __vcpu_run_once(struct vcpu *vcpu)
{
	int ret;

	if (!vcpu->stats.first_run_ns)
		vcpu->stats.first_run_ns = now_ns();
	ret = ioctl(vcpu->fd, KVM_RUN, 0);
	if (ret < 0)
		return -errno;
	if (vcpu->run->exit_reason < VCPU_EXIT_REASONS)
		vcpu->stats.exits[vcpu->run->exit_reason]++;
	return 0;
}

/* Ask vcpu's thread to leave vcpu_run() with VCPU_STOPPED. */
void vcpu_kick(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->stop, 1, __ATOMIC_SEQ_CST);
	if (vcpu->thread)
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

/* An access with no device behind it: reads all-ones, writes vanish. */
static int empty_bus(struct vcpu *vcpu, const char *what, uint64_t addr, bool write, void *data,
		     uint32_t len)
{
	vcpu->stats.empty_bus++;
	if (vcpu->log)
		fprintf(vcpu->log, "vcpu%d: %s %s 0x%llx (%u bytes): no device\n", vcpu->id, what,
			write ? "write" : "read", (unsigned long long)addr, len);
	if (!write)
		memset(data, 0xff, len);
	if (!vcpu->empty_bus_fatal)
		return VCPU_CONTINUE;
	snprintf(vcpu->why, sizeof(vcpu->why), "%s %s at 0x%llx: no device there", what,
		 write ? "write" : "read", (unsigned long long)addr);
	return VCPU_CRASHED;
}

static int handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	uint16_t port = run->io.port;
	int ret = VCPU_CONTINUE;

	if (port == HC_PORT)
		return hypercall_dispatch(vcpu);
	for (uint32_t i = 0; i < run->io.count && ret == VCPU_CONTINUE; i++) {
		if (port >= COM1_PORT && port < COM1_PORT + 8 && run->io.size == 1)
			uart_io(vcpu, port, out, data);
		else
			ret = empty_bus(vcpu, "port", port, out, data, run->io.size);
		data += run->io.size;
	}
	return ret;
}

static void log_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	fprintf(vcpu->log, "vcpu%d: %s", vcpu->id, kvm_exit_reason_name(run->exit_reason));
	if (run->exit_reason == KVM_EXIT_IO)
		fprintf(vcpu->log, " %s port 0x%x size %u count %u",
			run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
			run->io.size, run->io.count);
	else if (run->exit_reason == KVM_EXIT_MMIO)
		fprintf(vcpu->log, " %s 0x%llx len %u", run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
	fputc('\n', vcpu->log);
}

static int vcpu_end(struct vcpu *vcpu, enum vcpu_result result, const char *why)
{
	snprintf(vcpu->why, sizeof(vcpu->why), "%s", why);
	return result;
}

/* Returns VCPU_CONTINUE, or why the guest ended. */
static int handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	char why[80];

	if (vcpu->log)
		log_exit(vcpu);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vcpu);
	case KVM_EXIT_MMIO:
		return empty_bus(vcpu, "memory", run->mmio.phys_addr, run->mmio.is_write,
				 run->mmio.data, run->mmio.len);
	case KVM_EXIT_HLT:
		return vcpu_end(vcpu, VCPU_HALTED, "hlt");
	case KVM_EXIT_INTR:
		return VCPU_CONTINUE; /* the caller checks the clock and stop flag */
	case KVM_EXIT_SHUTDOWN:
		return vcpu_end(vcpu, VCPU_CRASHED, "KVM_EXIT_SHUTDOWN (triple fault)");
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM_EXIT_INTERNAL_ERROR, suberror %u",
			 run->internal.suberror);
		return vcpu_end(vcpu, VCPU_CRASHED, why);
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		return vcpu_end(vcpu, VCPU_CRASHED, why);
	default:
		snprintf(why, sizeof(why), "unexpected %s", kvm_exit_reason_name(run->exit_reason));
		return vcpu_end(vcpu, VCPU_CRASHED, why);
	}
}

static timer_t vcpu_arm_timer(unsigned int timeout_ms)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = VCPU_KICK_SIGNAL,
	};
	struct itimerspec its = {
		.it_value.tv_sec = timeout_ms / 1000,
		.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L,
	};
	timer_t timer;

	sev._sigev_un._tid = gettid(); /* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, &timer))
		kvm_die("timer_create: %s", strerror(errno));
	timer_settime(timer, 0, &its, NULL);
	return timer;
}

/* Take the pending kick, so that the next KVM_RUN really runs. */
static void vcpu_eat_kick(void)
{
	struct timespec zero = { 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
}

/*
 * Run until the guest ends. timeout_ms = 0 means no time limit (the
 * command's choice, never a test's). Must be called on the vCPU's own
 * thread.
 */
enum vcpu_result vcpu_run(struct vcpu *vcpu, unsigned int timeout_ms)
{
	uint64_t deadline = now_ns() + timeout_ms * 1000000ull;
	timer_t timer = NULL;
	int ret, result = VCPU_CONTINUE;

	vcpu->thread = pthread_self();
	ret = vcpu_prepare_kick(vcpu);
	if (ret)
		kvm_die_ioctl("KVM_SET_SIGNAL_MASK", -ret);
	if (timeout_ms)
		timer = vcpu_arm_timer(timeout_ms);
	while (result == VCPU_CONTINUE) {
		if (__atomic_load_n(&vcpu->stop, __ATOMIC_SEQ_CST)) {
			result = vcpu_end(vcpu, VCPU_STOPPED, "stopped");
			break;
		}
		if (timeout_ms && now_ns() >= deadline) {
			result = vcpu_end(vcpu, VCPU_TIMEOUT, "time limit reached");
			break;
		}
		ret = __vcpu_run_once(vcpu);
		if (ret == -EINTR || ret == -EAGAIN) {
			vcpu_eat_kick();
			vcpu->run->exit_reason = KVM_EXIT_INTR;
		} else if (ret) {
			snprintf(vcpu->why, sizeof(vcpu->why), "KVM_RUN failed: %s (errno %d)",
				 strerror(-ret), -ret);
			result = VCPU_CRASHED;
			break;
		}
		result = handle_exit(vcpu);
	}
	if (timer)
		timer_delete(timer);
	vcpu_eat_kick();
	vcpu->stats.end_ns = now_ns();
	return result;
}

const char *vcpu_result_name(enum vcpu_result result)
{
	static const char *const names[] = {
		[VCPU_HALTED] = "halted",     [VCPU_EXITED] = "exited",
		[VCPU_TIMEOUT] = "timed out", [VCPU_STOPPED] = "stopped",
		[VCPU_CRASHED] = "crashed",   [VCPU_BAD_HYPERCALL] = "bad hypercall",
	};

	return result >= 0 && result <= VCPU_BAD_HYPERCALL ? names[result] : "?";
}
