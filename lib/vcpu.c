// SPDX-License-Identifier: MIT
/*
 * vCPUs and the run loop. KVM_RUN returns to us on every exit the kernel
 * cannot handle itself; we hand it to the device on the bus behind it,
 * and go round again until the guest ends, crashes or runs out of time.
 *
 * The time limit and stop are race-free: VCPU_KICK_SIGNAL stays blocked
 * in the vCPU thread and is unblocked only inside KVM_RUN (with
 * KVM_SET_SIGNAL_MASK) and inside vcpu_wait_fd(), so a kick that lands in
 * between waits, pending, for the next one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm/device.h"

/* Where KVM may put the TSS that Intel needs to emulate real mode. */
#define KVM_TSS_ADDR 0xfffbd000

static void ignore_kick(int sig)
{
	(void)sig;
}

static void install_kick_handler(void)
{
	struct sigaction sa = { .sa_handler = ignore_kick };

	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

/*
 * What a VM needs once, before its first vCPU: the size of kvm_run, and
 * on Intel a TSS for emulating real mode. Also, before any vCPU can be
 * kicked, the kick's handler: its default action would kill the process.
 */
static int vm_prepare_vcpus(struct vm *vm)
{
	static pthread_once_t kick_handler_once = PTHREAD_ONCE_INIT;
	long ret;

	pthread_once(&kick_handler_once, install_kick_handler);
	ret = __kvm_fd_ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0, vm->error, sizeof(vm->error));
	if (ret < 0)
		return ret;
	vm->run_size = ret;
	if (kvm_check_cap(vm->kvm_fd, KVM_CAP_SET_TSS_ADDR))
		return __vm_ioctl(vm, KVM_SET_TSS_ADDR, KVM_TSS_ADDR);
	return 0;
}

int __vcpu_add(struct vm *vm, struct vcpu **vcpup)
{
	struct vcpu *vcpu;
	int ret;

	*vcpup = NULL;
	if (vm->nr_vcpus == VM_MAX_VCPUS) {
		snprintf(vm->error, sizeof(vm->error), "at most %d vCPUs per VM", VM_MAX_VCPUS);
		return -ENOSPC;
	}
	if (!vm->nr_vcpus && (ret = vm_prepare_vcpus(vm)))
		return ret;
	vcpu = calloc(1, sizeof(*vcpu));
	if (!vcpu)
		return -ENOMEM;
	vcpu->vm = vm;
	vcpu->id = vm->nr_vcpus;
	vcpu->fd = __vm_ioctl(vm, KVM_CREATE_VCPU, (long)vcpu->id);
	if (vcpu->fd < 0) {
		ret = vcpu->fd;
		goto out_free;
	}
	vcpu->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		snprintf(vm->error, sizeof(vm->error), "mmap of the vCPU's kvm_run: %s",
			 strerror(-ret));
		goto out_close;
	}
	if (vm->has_sync_regs)
		vcpu->run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	vm->vcpus[vm->nr_vcpus++] = vcpu;
	*vcpup = vcpu;
	return 0;
out_close:
	close(vcpu->fd);
out_free:
	free(vcpu);
	return ret;
}

struct vcpu *vcpu_add(struct vm *vm)
{
	struct vcpu *vcpu;

	if (__vcpu_add(vm, &vcpu))
		kvm_die("%s", vm->error);
	return vcpu;
}

/*
 * On the vCPU's own thread: block the kick here, and let KVM_RUN (and
 * vcpu_wait_fd()) unblock it. Only then may vcpu_kick() signal the thread.
 */
static int vcpu_take_thread(struct vcpu *vcpu)
{
	struct {
		struct kvm_signal_mask head;
		uint8_t sigset[8]; /* the kernel's sigset_t, not glibc's */
	} mask = { .head.len = 8 };
	sigset_t set;
	int ret;

	if (vcpu->thread_set)
		return 0;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_sigmask(SIG_BLOCK, NULL, &vcpu->run_sigmask);
	sigdelset(&vcpu->run_sigmask, VCPU_KICK_SIGNAL);
	memcpy(mask.sigset, &vcpu->run_sigmask, sizeof(mask.sigset));
	ret = __vcpu_ioctl(vcpu, KVM_SET_SIGNAL_MASK, &mask);
	if (ret < 0)
		return ret;
	vcpu->thread = pthread_self();
	__atomic_store_n(&vcpu->thread_set, true, __ATOMIC_SEQ_CST);
	return 0;
}

/* One KVM_RUN. Returns 0 or -errno (-EINTR when kicked). */
int __vcpu_run_once(struct vcpu *vcpu)
{
	int ret;

	if (!vcpu->stats.first_run_ns)
		vcpu->stats.first_run_ns = now_ns();
	/* Untimed, this test is all that timing costs: no clock is read. */
	if (vcpu->timing)
		ret = __vcpu_run_timed(vcpu);
	else
		ret = __kvm_fd_ioctl(vcpu->fd, KVM_RUN, 0, NULL, 0);
	if (ret < 0)
		return ret;
	if (vcpu->run->exit_reason < VCPU_EXIT_REASONS)
		vcpu->stats.exits[vcpu->run->exit_reason]++;
	return 0;
}

/* Ask vcpu's thread to leave vcpu_run() with VCPU_STOPPED. */
void vcpu_kick(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->stop, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vcpu->thread_set, __ATOMIC_SEQ_CST))
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

/*
 * Ask vcpu's thread to leave vcpu_run() with VCPU_DEBUG and vcpu->paused
 * (a debugger's all-stop); vcpu_run() again goes on where it was.
 */
void vcpu_pause(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->pause, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vcpu->thread_set, __ATOMIC_SEQ_CST))
		pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

/*
 * KVM_SET_GUEST_DEBUG, out of KVM_RUN only. Registers written through
 * kvm_run's sync area are made real first: on nested SVM a pending
 * KVM_SYNC_X86_REGS write made the next step's #DB go missing.
 */
int __vcpu_set_guest_debug(struct vcpu *vcpu, const struct kvm_guest_debug *dbg)
{
	int ret;

	if (vcpu->run->kvm_dirty_regs & KVM_SYNC_X86_REGS) {
		ret = __vcpu_ioctl(vcpu, KVM_SET_REGS, &vcpu->run->s.regs.regs);
		if (ret < 0)
			return ret;
		vcpu->run->kvm_dirty_regs &= ~KVM_SYNC_X86_REGS;
	}
	ret = __vcpu_ioctl(vcpu, KVM_SET_GUEST_DEBUG, dbg);
	if (ret < 0)
		return ret;
	vcpu->debugging = dbg->control & KVM_GUESTDBG_ENABLE;
	return 0;
}

/* Each element of a `rep ins/outs` is one access of the bus. */
static int handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool out = run->io.direction == KVM_EXIT_IO_OUT;
	int ret = VCPU_CONTINUE;

	for (uint32_t i = 0; i < run->io.count && ret == VCPU_CONTINUE; i++) {
		ret = bus_access(vcpu, &vcpu->vm->pio, run->io.port, data, run->io.size, out);
		data += run->io.size;
	}
	return ret;
}

static void log_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	FILE *log = vcpu->vm->log;

	fprintf(log, "vcpu%d: %s", vcpu->id, kvm_exit_reason_name(run->exit_reason));
	if (run->exit_reason == KVM_EXIT_IO)
		fprintf(log, " %s port 0x%x size %u count %u",
			run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", run->io.port,
			run->io.size, run->io.count);
	else if (run->exit_reason == KVM_EXIT_MMIO)
		fprintf(log, " %s 0x%llx len %u", run->mmio.is_write ? "write" : "read",
			(unsigned long long)run->mmio.phys_addr, run->mmio.len);
	fputc('\n', log);
}

/* Returns VCPU_CONTINUE, or why the guest ended. */
static int handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	if (vcpu->vm->log)
		log_exit(vcpu);
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(vcpu);
	case KVM_EXIT_MMIO:
		return bus_access(vcpu, &vcpu->vm->mmio, run->mmio.phys_addr, run->mmio.data,
				  run->mmio.len, run->mmio.is_write);
	case KVM_EXIT_HLT:
		return vcpu_end(vcpu, VCPU_HALTED, "hlt");
	case KVM_EXIT_INTR:
		return VCPU_CONTINUE; /* the caller checks the clock and stop flag */
	case KVM_EXIT_DEBUG:
		if (!vcpu->debugging)
			break;
		vcpu->paused = false;
		return VCPU_DEBUG;
	case KVM_EXIT_SHUTDOWN:
		return vcpu_end(vcpu, VCPU_CRASHED, "KVM_EXIT_SHUTDOWN (triple fault)");
	case KVM_EXIT_INTERNAL_ERROR:
		return vcpu_end(vcpu, VCPU_CRASHED, "KVM_EXIT_INTERNAL_ERROR, suberror %u",
				run->internal.suberror);
	case KVM_EXIT_FAIL_ENTRY:
		return vcpu_end(vcpu, VCPU_CRASHED, "KVM_EXIT_FAIL_ENTRY, hardware reason 0x%llx",
				(unsigned long long)run->fail_entry.hardware_entry_failure_reason);
	default:
		break;
	}
	return vcpu_end(vcpu, VCPU_CRASHED, "unexpected %s",
			kvm_exit_reason_name(run->exit_reason));
}

/* The time limit: a kick of this thread when it passes. */
static int vcpu_arm_timer(struct vcpu *vcpu, unsigned int timeout_ms, timer_t *timer)
{
	struct sigevent sev = {
		.sigev_notify = SIGEV_THREAD_ID,
		.sigev_signo = VCPU_KICK_SIGNAL,
	};
	struct itimerspec its = {
		.it_value.tv_sec = timeout_ms / 1000,
		.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L,
	};

	sev._sigev_un._tid = gettid(); /* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &sev, timer) || timer_settime(*timer, 0, &its, NULL)) {
		snprintf(vcpu->vm->error, sizeof(vcpu->vm->error), "timer_create: %s",
			 strerror(errno));
		return -errno;
	}
	return 0;
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

static int vcpu_run_loop(struct vcpu *vcpu)
{
	int ret, result = VCPU_CONTINUE;

	while (result == VCPU_CONTINUE) {
		if (__atomic_load_n(&vcpu->stop, __ATOMIC_SEQ_CST))
			return vcpu_end(vcpu, VCPU_STOPPED, "stopped");
		if (vcpu->deadline_ns && now_ns() >= vcpu->deadline_ns)
			return vcpu_end(vcpu, VCPU_TIMEOUT, "time limit reached");
		/* Only a debugger pauses: without one this is a load that is never set. */
		if (__atomic_load_n(&vcpu->pause, __ATOMIC_RELAXED) &&
		    __atomic_exchange_n(&vcpu->pause, 0, __ATOMIC_SEQ_CST)) {
			vcpu->paused = true;
			return VCPU_DEBUG;
		}
		ret = __vcpu_run_once(vcpu);
		if (ret == -EINTR || ret == -EAGAIN) {
			vcpu_eat_kick();
			vcpu->run->exit_reason = KVM_EXIT_INTR;
		} else if (ret) {
			return vcpu_end(vcpu, VCPU_CRASHED, "KVM_RUN failed: %s (errno %d)",
					strerror(-ret), -ret);
		}
		/* A device's wait cut short by a stop or the limit ends at the top. */
		result = handle_exit(vcpu);
	}
	return result;
}

/*
 * Run until the guest ends, or reaches an HC_SYNC stage (call again to go
 * on). timeout_ms = 0 means no time limit (the command's choice, never a
 * test's). Must be called on the vCPU's own thread.
 */
enum vcpu_result vcpu_run(struct vcpu *vcpu, unsigned int timeout_ms)
{
	timer_t timer = NULL;
	int result;

	/*
	 * The deadline first: the one-shot timer then fires at or after it, and
	 * the loop that its kick interrupts sees the time is up. The other way
	 * round, a kick a few microseconds early was taken for nothing and the
	 * guest ran on with no kick left to come.
	 */
	vcpu->deadline_ns = timeout_ms ? now_ns() + timeout_ms * 1000000ull : 0;
	if (vcpu_take_thread(vcpu) || (timeout_ms && vcpu_arm_timer(vcpu, timeout_ms, &timer)))
		return vcpu_end(vcpu, VCPU_CRASHED, "%s", vcpu->vm->error);
	result = vcpu_run_loop(vcpu);
	if (timer)
		timer_delete(timer);
	vcpu_eat_kick();
	if (vcpu->timing)
		vcpu_timing_flush(vcpu);
	vcpu->stats.end_ns = now_ns();
	return result;
}

const char *vcpu_result_name(enum vcpu_result result)
{
	static const char *const names[VCPU_NR_RESULTS] = {
		[VCPU_HALTED] = "halted",     [VCPU_EXITED] = "exited",
		[VCPU_TIMEOUT] = "timed out", [VCPU_STOPPED] = "stopped",
		[VCPU_CRASHED] = "crashed",   [VCPU_BAD_HYPERCALL] = "bad hypercall",
		[VCPU_SYNC] = "sync",	      [VCPU_DEBUG] = "debug",
	};

	return result >= 0 && result < VCPU_NR_RESULTS ? names[result] : "?";
}
