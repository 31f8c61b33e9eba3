// SPDX-License-Identifier: MIT
/*
 * guest_fuzz: random bytes as real-mode guest code, run on the real KVM.
 * Whatever the bytes do, the VMM must end each run with a defined result
 * (halted, exited, timed out, crashed or bad hypercall, with a message;
 * an HC_SYNC stage is answered by going on, as a host would),
 * within its time limit plus a margin, and the process must survive to
 * run the next. The runs are reproducible: a fixed seed, and each run's
 * own seed is printed with any failure.
 *
 * Each run gets a fresh VM with 256 KiB: 128 KiB of random bytes from
 * address 0 (so that jumps and interrupt vectors land in more random
 * code), entry at 0x1000:0, random general registers with DX = the
 * hypercall port (so a random `out %al,(%dx)` is a hypercall), random
 * console input, and every other run the empty bus made fatal. A quarter
 * of the runs start with 16 hypercalls of random function and arguments
 * (EBX, ECX) before the random bytes.
 *
 *   guest_fuzz [--runs=N] [--seed=S] [--timeout-ms=T] [--first=N] [--verbose]
 *                 (default 300, 1, 100, 0; --first: start at run N, to
 *                 replay one; --verbose: a line a run)
 *   guest_fuzz --flood=N     N PUTCHAR hypercalls, every byte checked
 *
 * Exit: 0 every run defined, 1 a run was not, 4 no KVM that runs real mode.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

#define MEM_SIZE (256 << 10)
#define RANDOM_BYTES (128 << 10)
#define ENTRY_SEGMENT 0x1000
#define MARGIN_MS 3000

static uint64_t rng_state;
static bool verbose;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

struct sink {
	uint64_t bytes, bad;
	bool sequence;
	uint8_t in[16];
	int in_len, in_pos;
};

static void sink_write(void *opaque, struct vcpu *vcpu, const void *buf, size_t len)
{
	struct sink *s = opaque;

	(void)vcpu;
	for (size_t i = 0; i < len; i++, s->bytes++)
		if (s->sequence && ((const uint8_t *)buf)[i] != (uint8_t)s->bytes)
			s->bad++;
}

static int sink_getc(void *opaque, struct vcpu *vcpu, bool wait)
{
	struct sink *s = opaque;

	(void)vcpu;
	if (s->in_pos < s->in_len)
		return s->in[s->in_pos++];
	return wait ? CONSOLE_EOF : CONSOLE_EMPTY;
}

static struct vcpu *new_guest(const uint8_t *image, size_t len, uint16_t segment,
			      struct sink *s)
{
	const struct console_ops console = { sink_write, sink_getc, s };
	struct guest_spec spec = {
		.mem_size = MEM_SIZE,
		.mode = GUEST_REAL,
		.image = image,
		.len = len,
		.load_gpa = (uint64_t)segment << 4,
	};
	struct vcpu *vcpu = vm_create_with_one_vcpu(&spec);

	vm_set_console(vcpu->vm, &console);
	return vcpu;
}

/* The start of vcpu->why, without the numbers: "KVM_EXIT_SHUTDOWN ...". */
static void why_kind(const char *why, char *kind, size_t len)
{
	size_t n = strcspn(why, "0123456789(");

	snprintf(kind, len, "%.*s", (int)(n < len - 1 ? n : len - 1), why);
	while (*kind && kind[strlen(kind) - 1] == ' ')
		kind[strlen(kind) - 1] = '\0';
}

#define MAX_KINDS 32
static struct {
	char kind[64];
	int count;
} kinds[MAX_KINDS];

static void count_kind(enum vcpu_result r, const char *why)
{
	char kind[64], k[48];
	int i;

	why_kind(why, k, sizeof(k));
	if (!strncmp(k, vcpu_result_name(r), strlen(vcpu_result_name(r))))
		snprintf(kind, sizeof(kind), "%s", k);
	else
		snprintf(kind, sizeof(kind), "%s: %s", vcpu_result_name(r), k);
	for (i = 0; i < MAX_KINDS && kinds[i].count; i++)
		if (!strcmp(kinds[i].kind, kind))
			break;
	if (i == MAX_KINDS)
		return;
	snprintf(kinds[i].kind, sizeof(kinds[i].kind), "%s", kind);
	kinds[i].count++;
}

static int fuzz(int first, int runs, uint64_t seed, unsigned int timeout_ms)
{
	static uint8_t image[RANDOM_BYTES];
	uint64_t classes[VCPU_NR_RESULTS] = { 0 }, max_ms = 0, total_ms = 0;
	uint64_t hypercalls = 0, exits = 0, out_bytes = 0;
	int failures = 0;

	printf("# guest_fuzz: %d runs, seed %llu, %u ms each\n", runs,
	       (unsigned long long)seed, timeout_ms);
	for (int run = first; run < first + runs; run++) {
		uint64_t run_seed = seed * 1000003 + run, t0, ms;
		struct sink s = { 0 };
		struct kvm_regs regs;
		struct vcpu *vcpu;
		enum vcpu_result r;
		bool defined;

		rng_state = run_seed * 0x9e3779b97f4a7c15ull + 1;
		for (size_t i = 0; i < sizeof(image); i += 8) {
			uint64_t v = rng();

			memcpy(image + i, &v, 8);
		}
		if (run % 4 == 3) { /* hypercalls with random arguments first */
			uint8_t *p = image + (ENTRY_SEGMENT << 4);

			for (int i = 0; i < 16; i++, p += 16) {
				uint32_t ebx = rng() & 1 ? (uint32_t)rng() : rng() % 0x50000;
				uint32_t ecx = rng() & 1 ? (uint32_t)rng() : rng() % 5000;

				p[0] = 0x66, p[1] = 0xbb, memcpy(p + 2, &ebx, 4); /* mov $ebx, %ebx */
				p[6] = 0x66, p[7] = 0xb9, memcpy(p + 8, &ecx, 4); /* mov $ecx, %ecx */
				p[12] = 0xb0, p[13] = rng() % (HC_NR_FUNCTIONS + 2); /* mov $fn, %al */
				p[14] = 0xee, p[15] = 0x90; /* out %al, (%dx); nop */
			}
		}
		s.in_len = rng() % sizeof(s.in);
		for (int i = 0; i < s.in_len; i++)
			s.in[i] = rng();

		vcpu = new_guest(image, sizeof(image), 0, &s);
		vcpu_set_real_mode(vcpu, ENTRY_SEGMENT, rng());
		vcpu_regs_get(vcpu, &regs);
		regs.rax = (uint32_t)rng();
		regs.rbx = (uint32_t)rng();
		regs.rcx = rng() % 0x20000; /* a rep count that may end */
		regs.rsi = (uint16_t)rng();
		regs.rdi = (uint16_t)rng();
		regs.rbp = (uint16_t)rng();
		regs.rdx = HC_PORT;
		vcpu_regs_set(vcpu, &regs);
		vcpu->vm->empty_bus_fatal = run & 1;

		t0 = now_ns();
		r = vcpu_run(vcpu, timeout_ms);
		/* A host answers an HC_SYNC stage by going on, within the time limit. */
		while (r == VCPU_SYNC && (ms = (now_ns() - t0) / 1000000) < timeout_ms)
			r = vcpu_run(vcpu, timeout_ms - ms);
		ms = (now_ns() - t0) / 1000000;

		defined = (r == VCPU_HALTED || r == VCPU_EXITED || r == VCPU_TIMEOUT ||
			   r == VCPU_CRASHED || r == VCPU_BAD_HYPERCALL || r == VCPU_SYNC) &&
			  vcpu->why[0] && ms <= timeout_ms + MARGIN_MS &&
			  (r != VCPU_EXITED || (vcpu->exit_status >= 0 && vcpu->exit_status <= 255));
		if (!defined) {
			failures++;
			printf("not ok run %d (seed %llu): %s after %llu ms: '%s'\n", run,
			       (unsigned long long)run_seed, vcpu_result_name(r),
			       (unsigned long long)ms, vcpu->why);
			vcpu_dump(vcpu, stdout);
		} else {
			classes[r]++;
			count_kind(r, vcpu->why);
		}
		if (r == VCPU_CRASHED || r == VCPU_BAD_HYPERCALL) {
			FILE *devnull = fopen("/dev/null", "w");

			vcpu_dump(vcpu, devnull); /* the crash report must not crash us */
			vcpu_crash_hint(vcpu);
			fclose(devnull);
		}
		for (int i = 0; i <= HC_NR_FUNCTIONS; i++)
			hypercalls += vcpu->stats.hypercalls[i];
		for (int i = 0; i < VCPU_EXIT_REASONS; i++)
			exits += vcpu->stats.exits[i];
		out_bytes += s.bytes;
		total_ms += ms;
		if (ms > max_ms)
			max_ms = ms;
		if (verbose)
			printf("# run %d (seed %llu): %s after %llu ms: %s\n", run,
			       (unsigned long long)run_seed, vcpu_result_name(r),
			       (unsigned long long)ms, vcpu->why);
		else if ((run + 1) % 50 == 0)
			printf("# %d runs done\n", run + 1);
		vm_destroy(vcpu->vm);
	}
	printf("# results:");
	for (int i = 0; i < VCPU_NR_RESULTS; i++)
		if (classes[i])
			printf(" %s=%llu", vcpu_result_name(i), (unsigned long long)classes[i]);
	printf("\n# %llu KVM exits, %llu hypercalls, %llu bytes of output; "
	       "longest run %llu ms, all runs %llu ms\n",
	       (unsigned long long)exits, (unsigned long long)hypercalls,
	       (unsigned long long)out_bytes, (unsigned long long)max_ms,
	       (unsigned long long)total_ms);
	for (int i = 0; i < MAX_KINDS && kinds[i].count; i++)
		printf("#   %5d  %s\n", kinds[i].count, kinds[i].kind);
	printf("%s guest_fuzz: %d of %d runs ended with a defined result\n",
	       failures ? "not ok" : "ok", runs - failures, runs);
	return failures ? 1 : 0;
}

/* PUTCHAR n, byte n & 0xff, count times; the count is patched in below. */
asm(".pushsection .rodata.flood, \"a\"\n"
    "flood_start:\n.code16\n"
    "	xor %esi, %esi\n"
    "1:	mov %esi, %ebx\n mov $1, %al\n mov $0x500, %dx\n out %al, (%dx)\n"
    "	inc %esi\n"
    "	cmpl %cs:(flood_count - flood_start), %esi\n"
    "	jne 1b\n"
    "	xor %ebx, %ebx\n xor %al, %al\n out %al, (%dx)\n hlt\n"
    "flood_count: .long 0\n"
    ".code64\nflood_end:\n.popsection\n");
extern const uint8_t flood_start[], flood_end[];

static int flood(uint32_t count)
{
	struct sink s = { .sequence = true };
	uint8_t image[256];
	size_t len = flood_end - flood_start;
	struct vcpu *vcpu;
	enum vcpu_result r;
	uint64_t t0;
	int ok;

	memcpy(image, flood_start, len);
	memcpy(image + len - 4, &count, 4);
	vcpu = new_guest(image, len, 0, &s);
	t0 = now_ns();
	r = vcpu_run(vcpu, 0);
	ok = r == VCPU_EXITED && vcpu->exit_status == 0 && s.bytes == count && !s.bad &&
	     vcpu->stats.hypercalls[HC_PUTCHAR] == count;
	printf("%s guest_fuzz: flood of %u PUTCHARs: %s, %llu bytes delivered, %llu out of "
	       "sequence, %.1f s\n", ok ? "ok" : "not ok", count, vcpu->why,
	       (unsigned long long)s.bytes, (unsigned long long)s.bad,
	       (now_ns() - t0) / 1e9);
	vm_destroy(vcpu->vm);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "runs", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "flood", required_argument, NULL, 'f' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "first", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int runs = 300, first = 0, c;
	unsigned long long seed = 1, flood_count = 0;
	unsigned int timeout_ms = 100;
	const char *why;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': runs = atoi(optarg); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 't': timeout_ms = atoi(optarg); break;
		case 'f': flood_count = strtoull(optarg, NULL, 0); break;
		case 'v': verbose = true; break;
		case 'F': first = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: guest_fuzz [--runs=N] [--seed=S] "
					"[--timeout-ms=T] [--first=N] [--verbose] | --flood=N\n");
			return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!kvm_can_run(KVM_MODE_REAL, &why)) {
		printf("1..0 # SKIP %s\n", why);
		return 4;
	}
	if (flood_count)
		return flood(flood_count);
	return fuzz(first, runs, seed, timeout_ms ? timeout_ms : 100);
}
