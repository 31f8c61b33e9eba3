// SPDX-License-Identifier: MIT
/*
 * fuzz_hypercall: libFuzzer target for hypercall argument decoding and the
 * COM1 UART. The input becomes one KVM_EXIT_IO exit on a fake vCPU whose
 * registers travel in kvm_run (KVM_CAP_SYNC_REGS, as in lib_unit.c): the
 * direction, access size and count, the data bytes (function numbers, or
 * UART bytes), EBX/ECX/ESI/EDI, and console input. The vCPU's fd is -1.
 *
 * HC_WRITE asks the vCPU for CR0 (KVM_GET_SREGS) and, with paging on,
 * translates addresses (KVM_TRANSLATE). The fuzzer is linked with
 * -Wl,--wrap=ioctl: half the inputs see those ioctls fail (EBADF on fd -1,
 * which the library must survive), the other half get a fake kernel that
 * answers them with paging and translations chosen by the input.
 *
 * Input layout (short inputs are zero-padded):
 *   0      flags: bit 0 out, bits 1-2 size (1, 2, 4, 4), bit 3 fake kernel,
 *          bit 4 guest paging on, bit 5 UART instead of the hypercall port
 *   1      count (1..255, scaled down to fit the page)
 *   2-3    UART port offset (low 3 bits)
 *   4-19   EBX, ECX, ESI, EDI
 *   20-23  translation offset (guest-physical = guest-virtual + this)
 *   24-27  translation validity mask: page n valid unless bit n % 32 set
 *   28-..  data bytes (count * size), then console input
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mini-kvm/device.h"

#define SLOT_SIZE 0x10000
/* As KVM lays kvm_run out: the port I/O data has a page of its own. */
#define PIO_OFFSET 4096
#define RUN_SIZE (3 * 4096)
#define HEADER 28

static struct {
	bool fake_kernel, paging;
	uint32_t offset, invalid_mask;
} fk;

int __real_ioctl(int fd, unsigned long request, ...);

/* Every ioctl the library makes goes here (-Wl,--wrap=ioctl). */
int __wrap_ioctl(int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd != -1 || !fk.fake_kernel)
		return __real_ioctl(fd, request, arg);
	if (request == KVM_GET_SREGS) {
		struct kvm_sregs *sregs = arg;

		memset(sregs, 0, sizeof(*sregs));
		sregs->cr0 = fk.paging ? 0x80000011u : 0x10u;
		return 0;
	}
	if (request == KVM_TRANSLATE) {
		struct kvm_translation *tr = arg;
		uint64_t page = tr->linear_address >> 12;

		tr->physical_address = (uint32_t)(tr->linear_address + fk.offset);
		tr->valid = !(fk.invalid_mask & (1u << (page % 32)));
		return 0;
	}
	errno = ENOTTY;
	return -1;
}

struct sink {
	const uint8_t *in;
	size_t in_len, in_pos;
	uint64_t written;
};

static void sink_write(void *opaque, struct vcpu *vcpu, const void *buf, size_t len)
{
	struct sink *s = opaque;
	volatile uint8_t x = 0;

	(void)vcpu;
	/* Touch every byte: ASan checks that the library handed us real memory. */
	for (size_t i = 0; i < len; i++)
		x ^= ((const uint8_t *)buf)[i];
	(void)x;
	s->written += len;
}

static int sink_getc(void *opaque, struct vcpu *vcpu, bool wait)
{
	struct sink *s = opaque;

	(void)vcpu;
	if (s->in_pos < s->in_len)
		return s->in[s->in_pos++];
	return wait ? CONSOLE_EOF : CONSOLE_EMPTY;
}

/* A broken promise of the library: libFuzzer records the input. */
#define check(ok) do {                                                     \
	if (!(ok)) {                                                       \
		fprintf(stderr, "fuzz_hypercall: check failed: %s (line %d)\n", \
			#ok, __LINE__);                                    \
		abort();                                                   \
	}                                                                  \
} while (0)

static uint32_t le32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sizes[4] = { 1, 2, 4, 4 };
	static struct vm vm;
	uint8_t head[HEADER] = { 0 };
	struct kvm_run *run;
	struct vcpu vcpu;
	struct sink sink = { 0 };
	uint32_t io_size, count, data_len, data_offset = PIO_OFFSET;
	uint8_t *io;
	int ret;

	if (!vm.nr_mem) {
		console_init(&vm.console);
		if (hypercall_device_add(&vm) || uart_add(&vm, COM1_PORT))
			abort();
		vm.nr_mem = 2;
		vm.has_sync_regs = true;
		for (int i = 0; i < 2; i++) {
			vm.mem[i] = (struct vm_mem){ .gpa = i ? 0x100000 : 0, .size = SLOT_SIZE,
						     .host = malloc(SLOT_SIZE) };
			memset(vm.mem[i].host, 'a' + i, SLOT_SIZE);
		}
	}
	memcpy(head, data, size < HEADER ? size : HEADER);
	data += size < HEADER ? size : HEADER;
	size -= size < HEADER ? size : HEADER;

	fk.fake_kernel = head[0] & 8;
	fk.paging = head[0] & 16;
	fk.offset = le32(head + 20);
	fk.invalid_mask = le32(head + 24);

	/* Heap memory of kvm_run's size: ASan sees any access past its end. */
	run = calloc(1, RUN_SIZE);
	io_size = sizes[(head[0] >> 1) & 3];
	count = head[1] ? head[1] : 1;
	if (count * io_size > 4096)
		count = 4096 / io_size;
	data_len = count * io_size;
	io = (uint8_t *)run + data_offset;
	memcpy(io, data, size < data_len ? size : data_len);
	data += size < data_len ? size : data_len;
	size -= size < data_len ? size : data_len;

	memset(&vcpu, 0, sizeof(vcpu));
	vcpu.vm = &vm;
	vcpu.fd = -1;
	vcpu.run = run;
	vm.console.ops = (struct console_ops){ sink_write, sink_getc, &sink };
	vm.console.pending = CONSOLE_EMPTY;
	sink.in = data;
	sink.in_len = size;

	run->exit_reason = KVM_EXIT_IO;
	run->io.direction = head[0] & 1 ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN;
	run->io.size = io_size;
	run->io.count = count;
	run->io.data_offset = data_offset;
	run->s.regs.regs.rbx = le32(head + 4);
	run->s.regs.regs.rcx = le32(head + 8);
	run->s.regs.regs.rsi = le32(head + 12);
	run->s.regs.regs.rdi = le32(head + 16);

	/* As the run loop does: each element of a `rep ins/outs` is one access. */
	run->io.port = head[0] & 32 ? COM1_PORT + (head[2] & 7) : HC_PORT;
	ret = VCPU_CONTINUE;
	for (uint32_t i = 0; i < count && ret == VCPU_CONTINUE; i++)
		ret = bus_access(&vcpu, &vm.pio, run->io.port, io + i * io_size, io_size,
				 head[0] & 1);
	if (head[0] & 32) {
		check(ret == VCPU_CONTINUE);
		check(vm.console.pending == CONSOLE_EMPTY || vm.console.pending == CONSOLE_EOF ||
		      (vm.console.pending >= 0 && vm.console.pending < 256));
	} else {
		check(ret == VCPU_CONTINUE || ret == VCPU_EXITED || ret == VCPU_BAD_HYPERCALL ||
		      ret == VCPU_SYNC);
		if (ret == VCPU_BAD_HYPERCALL)
			check(!strncmp(vcpu.why, "bad hypercall: ", 15));
		if (ret == VCPU_EXITED)
			check(vcpu.exit_status >= 0 && vcpu.exit_status <= 255);
		if (ret == VCPU_CONTINUE || ret == VCPU_SYNC) /* every call answered in EAX */
			check(run->kvm_dirty_regs == KVM_SYNC_X86_REGS);
		check(vcpu.nr_reports <= HC_REPORT_MAX);
	}
	/* HC_WRITE writes at most HC_WRITE_MAX a call; PUTCHAR one byte. */
	check(sink.written <= (uint64_t)count * HC_WRITE_MAX);
	free(run);
	return 0;
}
