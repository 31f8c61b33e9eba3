// SPDX-License-Identifier: MIT
/*
 * Exit timing (mini-kvm/kvm.h): the clock read around each KVM_RUN, the
 * totals per exit reason, and each exit's record for a sink (the command's
 * --trace). The run loop calls in here only when vcpu->timing is set, so
 * an untimed vCPU pays one pointer test per exit and no clock read.
 *
 * An exit's handling ends when the next KVM_RUN is entered, one clock read
 * serving both, or at vcpu_timing_flush() (vcpu_run() returning). Handing
 * a full buffer to the sink happens between the two: its time is charged
 * to neither exit nor guest, and shows as a gap between two records.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/kvm.h"

int __vcpu_timing_start(struct vcpu *vcpu, exit_sink_fn *sink, void *opaque)
{
	struct vcpu_timing *t = vcpu->timing ? vcpu->timing : calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->sink = sink;
	t->opaque = opaque;
	vcpu->timing = t;
	return 0;
}

/* [0, 1) us is bucket 0, [2^(b-1), 2^b) us bucket b; the last takes the rest. */
unsigned int timing_bucket(uint64_t ns)
{
	uint64_t us = ns / 1000;
	unsigned int b = 0;

	while (us && b < TIMING_BUCKETS - 1) {
		us >>= 1;
		b++;
	}
	return b;
}

/* What the exit was about, read from kvm_run once the VMM has answered it. */
static void record_details(struct vcpu *vcpu, struct exit_record *rec)
{
	struct kvm_run *run = vcpu->run;
	uint32_t size;

	if (rec->reason == KVM_EXIT_IO) {
		rec->addr = run->io.port;
		rec->size = run->io.size;
		rec->count = run->io.count;
		rec->write = run->io.direction == KVM_EXIT_IO_OUT;
		size = run->io.size < sizeof(rec->value) ? run->io.size : sizeof(rec->value);
		memcpy(&rec->value, (uint8_t *)run + run->io.data_offset, size);
	} else if (rec->reason == KVM_EXIT_MMIO) {
		rec->addr = run->mmio.phys_addr;
		rec->size = run->mmio.len;
		rec->count = 1;
		rec->write = run->mmio.is_write;
		size = run->mmio.len < sizeof(rec->value) ? run->mmio.len : sizeof(rec->value);
		memcpy(&rec->value, run->mmio.data, size);
	}
}

/* The pending exit is handled: account it, and keep it only for a sink. */
static void end_handling(struct vcpu *vcpu, uint64_t now)
{
	struct vcpu_timing *t = vcpu->timing;
	struct exit_record *rec = &t->records[t->nr - 1];
	struct exit_time *et = &t->reasons[rec->reason < TIMING_REASONS ? rec->reason : 0];

	rec->done_ns = now;
	record_details(vcpu, rec);
	if (rec->reason < TIMING_REASONS) {
		et->count++;
		et->guest_ns += rec->exit_ns - rec->enter_ns;
		et->vmm_ns += rec->done_ns - rec->exit_ns;
		et->buckets[timing_bucket(rec->done_ns - rec->enter_ns)]++;
	}
	t->pending = false;
	if (!t->sink)
		t->nr = 0;
}

void vcpu_timing_flush(struct vcpu *vcpu)
{
	struct vcpu_timing *t = vcpu->timing;

	if (t->pending)
		end_handling(vcpu, now_ns());
	if (t->sink && t->nr)
		t->sink(t->opaque, vcpu, t->records, t->nr);
	t->nr = 0;
}

int __vcpu_run_timed(struct vcpu *vcpu)
{
	struct vcpu_timing *t = vcpu->timing;
	uint64_t enter = now_ns();
	struct exit_record *rec;
	int ret;

	if (t->pending)
		end_handling(vcpu, enter);
	if (t->nr == TIMING_RECORDS) {
		vcpu_timing_flush(vcpu);
		enter = now_ns();
	}
	ret = __kvm_fd_ioctl(vcpu->fd, KVM_RUN, 0, NULL, 0);
	if (ret < 0 && ret != -EINTR && ret != -EAGAIN)
		return ret; /* not an exit: the run loop ends the guest */
	rec = &t->records[t->nr++];
	*rec = (struct exit_record){
		.enter_ns = enter,
		.exit_ns = now_ns(),
		.reason = ret ? TIMING_KICKED : vcpu->run->exit_reason,
	};
	t->pending = true;
	return ret;
}
