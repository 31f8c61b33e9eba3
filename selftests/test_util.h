/* SPDX-License-Identifier: MIT */
/*
 * What the selftests share: guest code written inline, a console that
 * records what the guest printed and feeds it scripted input, the set-up
 * of guests, and kselftest's TEST_REQUIRE: a test that needs what this
 * host's KVM lacks skips with a reason, and fails only on a real defect.
 */
#ifndef MINI_KVM_TEST_UTIL_H
#define MINI_KVM_TEST_UTIL_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mini-kvm/kvm.h"

/* Every KVM_RUN in a test ends within this, whatever the guest does. */
#define TEST_RUN_TIMEOUT_MS 10000

/*
 * GUEST_CODE(name, ".code16", "...asm...") places guest code in the test
 * binary between name_start and name_end. Data is reached through
 * (label - name_start) plus the address where the test loads the code.
 */
#define GUEST_CODE(name, mode, body)                                         \
	asm(".pushsection .rodata.guest." #name ",\"a\"\n"                     \
	    ".globl " #name "_start, " #name "_end\n" #name "_start:\n" mode "\n" \
	    body "\n.code64\n" #name "_end:\n.popsection\n");                   \
	extern const uint8_t name##_start[], name##_end[]

/* Guest-side shorthands for the hypercall ABI, usable in GUEST_CODE. */
#define STR(x) #x
#define XSTR(x) STR(x)
#define HC(fn) "mov $" XSTR(fn) ", %al\n mov $" XSTR(HC_PORT) ", %dx\n outb %al, (%dx)\n"

struct test_console {
	struct console_ops ops;
	pthread_mutex_t lock; /* the vCPUs of one VM share its console */
	char out[1 << 16];
	size_t len;
	const char *in;
	size_t in_len, in_pos;
};

static void test_console_write(void *opaque, struct vcpu *vcpu, const void *buf, size_t len)
{
	struct test_console *tc = opaque;

	(void)vcpu;
	pthread_mutex_lock(&tc->lock);
	if (len > sizeof(tc->out) - 1 - tc->len)
		len = sizeof(tc->out) - 1 - tc->len;
	memcpy(tc->out + tc->len, buf, len);
	tc->len += len;
	tc->out[tc->len] = '\0';
	pthread_mutex_unlock(&tc->lock);
}

static int test_console_getc(void *opaque, struct vcpu *vcpu, bool wait)
{
	struct test_console *tc = opaque;

	(void)vcpu;
	(void)wait;
	return tc->in_pos < tc->in_len ? (unsigned char)tc->in[tc->in_pos++] : CONSOLE_EOF;
}

/* Attach a recording console with scripted input (NULL: none) to vm. */
static inline void test_console_attach_vm(struct vm *vm, struct test_console *tc,
					  const char *input)
{
	tc->ops = (struct console_ops){ test_console_write, test_console_getc, tc };
	pthread_mutex_init(&tc->lock, NULL);
	tc->out[0] = '\0';
	tc->len = 0;
	tc->in = input;
	tc->in_len = input ? strlen(input) : 0;
	tc->in_pos = 0;
	vm_set_console(vm, &tc->ops);
}

static inline void test_console_attach(struct vcpu *vcpu, struct test_console *tc,
				       const char *input)
{
	test_console_attach_vm(vcpu->vm, tc, input);
}

/*
 * A VM with mem_size bytes at 0 and one vCPU in real mode, running the
 * code between start and end loaded at segment:0.
 */
static inline struct vcpu *test_real_mode_guest(uint64_t mem_size, uint16_t segment,
						const uint8_t *start, const uint8_t *end)
{
	struct guest_spec spec = {
		.mem_size = mem_size,
		.mode = GUEST_REAL,
		.image = start,
		.len = end - start,
		.load_gpa = (uint64_t)segment << 4,
	};

	return vm_create_with_one_vcpu(&spec);
}

/* One more vCPU in vm, in real mode, running start..end loaded at segment:0. */
static inline struct vcpu *test_add_real_mode_vcpu(struct vm *vm, uint16_t segment,
						   const uint8_t *start, const uint8_t *end)
{
	struct vcpu *vcpu;

	vm_load_flat(vm, (uint64_t)segment << 4, start, end - start);
	vcpu = vcpu_add(vm);
	vcpu_set_real_mode(vcpu, segment, 0);
	return vcpu;
}

/* A guest on a thread of its own, so that several run at once. */
struct test_guest {
	struct vcpu *vcpu;
	struct test_console tc;
	enum vcpu_result result;
	pthread_t thread;
};

static void *test_guest_thread(void *arg)
{
	struct test_guest *g = arg;

	g->result = vcpu_run(g->vcpu, TEST_RUN_TIMEOUT_MS);
	return NULL;
}

/* Start every guest, then wait for all of them. */
static inline void test_run_guests(struct test_guest *guests, int n)
{
	for (int i = 0; i < n; i++)
		if (pthread_create(&guests[i].thread, NULL, test_guest_thread, &guests[i]))
			kvm_die("pthread_create failed");
	for (int i = 0; i < n; i++)
		pthread_join(guests[i].thread, NULL);
}

/*
 * What a test needs from this host, as the KVM selftests' TEST_REQUIRE.
 * Each need_*() returns NULL when this host's KVM has it, or a reason to
 * skip that names the KVM and says where the test runs instead. The
 * answers come from kvm_can_run(), which runs its probe guests once per
 * process: the harness forks every test from a process that has asked.
 *
 * A binary states what all its tests need: KVM_TEST_HARNESS_MAIN(need)
 * skips it whole ("1..0 # SKIP reason", exit 4) before the harness runs.
 * A test that needs more starts with TEST_REQUIRE(need), which skips just
 * that test ("ok N # SKIP reason"). Not in FIXTURE_SETUP: kernel 6.1's
 * harness runs the test body after a SKIP there.
 */
static char test_skip_reason[600];

/*
 * why, and where to run this test instead. A diagnosis that already
 * advises the helper VM for the command (kvm_open_diagnosis()) has that
 * clause replaced by the advice for this test.
 */
static inline const char *test_elsewhere(const char *why)
{
	const char *advice = strstr(why, "ci/nested-kvm");
	int keep = strlen(why);

	for (const char *p = advice; p && p > why; p--) {
		if (!strncmp(p, "; ", 2) || !strncmp(p, ", or ", 5)) {
			keep = p - why;
			break;
		}
	}
	snprintf(test_skip_reason, sizeof(test_skip_reason),
		 "%.*s; run it in the helper VM instead: ci/nested-kvm %s", keep, why,
		 program_invocation_name);
	return test_skip_reason;
}

/* A KVM that runs guests of mode (real mode: any usable KVM). */
static inline const char *need_mode(enum kvm_mode mode)
{
	const char *why;

	return kvm_can_run(mode, &why) ? NULL : test_elsewhere(why);
}

/* A usable KVM that offers the capability cap (KVM_CHECK_EXTENSION). */
#define need_cap(cap) __need_cap(cap, #cap)
static inline const char *__need_cap(long cap, const char *name)
{
	const char *why;
	char lacks[200];
	int fd, has;

	if (!kvm_can_run(KVM_MODE_REAL, &why))
		return test_elsewhere(why);
	fd = kvm_open();
	has = kvm_check_cap(fd, cap) > 0;
	close(fd);
	if (has)
		return NULL;
	snprintf(lacks, sizeof(lacks), "%s lacks %s", why, name);
	return test_elsewhere(lacks);
}

/* The in-kernel irqchip and PIT that guest_spec.irqchip asks for. */
static inline const char *need_irqchip(void)
{
	const char *why = need_cap(KVM_CAP_IRQCHIP);

	return why ? why : need_cap(KVM_CAP_PIT2);
}

#define TEST_REQUIRE(need)                               \
	do {                                             \
		const char *__why = (need);              \
								 \
		if (__why)                               \
			SKIP(return, "%s", __why);       \
	} while (0)

static inline void test_require_all(const char *why)
{
	if (!why)
		return;
	printf("TAP version 13\n1..0 # SKIP %s\n", why);
	exit(KSFT_SKIP);
}

/*
 * The harness's own main, after the binary's needs are checked in a
 * constructor: the harness's internals differ between kernel versions,
 * so none of them is copied here.
 */
#define KVM_TEST_HARNESS_MAIN(need)                                          \
	static void __attribute__((constructor)) test_require_first(void)    \
	{                                                                    \
		test_require_all(need);                                      \
	}                                                                    \
	TEST_HARNESS_MAIN

#endif /* MINI_KVM_TEST_UTIL_H */
