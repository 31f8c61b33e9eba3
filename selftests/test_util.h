/* SPDX-License-Identifier: MIT */
/*
 * What the selftests share: guest code written inline, a console that
 * records what the guest printed and feeds it scripted input, and a main()
 * that skips, kselftest-style, where there is no usable KVM.
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

/* kselftest's convention: no usable KVM is a skip (exit 4), not a failure. */
static inline void test_require_kvm(void)
{
	int fd = __kvm_open();

	if (fd < 0) {
		printf("TAP version 13\n1..0 # SKIP %s\n", kvm_open_diagnosis(-fd));
		exit(KSFT_SKIP);
	}
	close(fd);
}

/*
 * The harness's own main, after a check for KVM in a constructor: the
 * harness's internals differ between kernel versions (6.1 orders its
 * constructors at run time, later ones by priority), so none is copied.
 */
#define KVM_TEST_HARNESS_MAIN                                               \
	static void __attribute__((constructor)) test_require_kvm_first(void) \
	{                                                                    \
		test_require_kvm();                                          \
	}                                                                    \
	TEST_HARNESS_MAIN

#endif /* MINI_KVM_TEST_UTIL_H */
