// SPDX-License-Identifier: MIT
/*
 * cpu_model: --cpu, QEMU's -cpu syntax, as kvm-unit-tests' unittests.cfg
 * writes it ("qemu64,-pcid,+invpcid", "max,vendor=GenuineIntel"). The
 * parser's answers and refusals need no KVM. With one, the model reaches
 * the vCPU: a guest's own CPUID sees the vendor it names and lacks the
 * features it takes away, while every other bit is KVM's supported set;
 * and the features turned on that this KVM cannot give are named, exactly
 * those, so that the command can warn as QEMU does.
 */
#include <stdlib.h>

#include "test_util.h"

#define MEM_SIZE (64 << 10)
#define X2APIC_BIT (1u << 21) /* CPUID.1:ECX */
#define PCID_BIT (1u << 17)
#define TSC_DEADLINE_BIT (1u << 24)
#define INVPCID_BIT (1u << 10) /* CPUID.7.0:EBX */

/* Reports CPUID.0 EBX, EDX, ECX, CPUID.1 ECX and CPUID.7.0 EBX, then ends. */
GUEST_CODE(cpuid_guest, ".code16",
	   "	xor %eax, %eax\n cpuid\n mov %edx, %edi\n mov %ecx, %esi\n"
	   "	mov %ebx, %ecx\n mov $0, %ebx\n" HC(HC_REPORT)
	   "	mov %edi, %ecx\n mov $1, %ebx\n" HC(HC_REPORT)
	   "	mov %esi, %ecx\n mov $2, %ebx\n" HC(HC_REPORT)
	   "	mov $1, %eax\n xor %ecx, %ecx\n cpuid\n"
	   "	mov $3, %ebx\n" HC(HC_REPORT)
	   "	mov $7, %eax\n xor %ecx, %ecx\n cpuid\n mov %ebx, %ecx\n"
	   "	mov $4, %ebx\n" HC(HC_REPORT)
	   "	xor %ebx, %ebx\n" HC(HC_EXIT));

static const char *parse(struct cpu_model *m, const char *spec)
{
	static char err[300];

	return cpu_model_parse(m, spec, err, sizeof(err)) ? err : NULL;
}

TEST(models_and_features_parse)
{
	struct cpu_model m;

	EXPECT_EQ(NULL, parse(&m, "host"));
	EXPECT_EQ(0, m.add | m.remove);
	EXPECT_STREQ("", m.vendor);
	EXPECT_EQ(NULL, parse(&m, "qemu64,-pcid,+invpcid,vendor=GenuineIntel"));
	EXPECT_STREQ("GenuineIntel", m.vendor);
	EXPECT_NE(0, m.add);
	EXPECT_NE(0, m.remove);
	EXPECT_EQ(0, m.add & m.remove);
	/* No model: features on the supported set. The last word wins. */
	EXPECT_EQ(NULL, parse(&m, "+x2apic,-x2apic"));
	EXPECT_EQ(0, m.add);
	EXPECT_NE(0, m.remove);
	EXPECT_EQ(NULL, parse(&m, "max,x2apic=off,x2apic=on"));
	EXPECT_EQ(0, m.remove);
	EXPECT_NE(0, m.add);
	/* QEMU's host-phys-bits is what every model here is anyway. */
	EXPECT_EQ(NULL, parse(&m, "max,host-phys-bits"));
	EXPECT_EQ(0, m.add | m.remove);
	EXPECT_EQ(NULL, parse(&m, "max,host-phys-bits=on"));
}

/* Each refusal names what is wrong with the spec. */
TEST(bad_specs_are_refused)
{
	static const struct {
		const char *spec, *err;
	} bad[] = {
		{ "IvyBridge", "unknown CPU model 'IvyBridge'" },
		{ "max,+frobnicate", "unknown CPU feature 'frobnicate'" },
		{ "max,phys-bits=40", "phys-bits=40: a feature is 'on' or 'off'" },
		{ "max,host-phys-bits=off", "host-phys-bits=off: mini-kvm's CPUs always have" },
		{ "+pcid,max", "'max': the CPU model comes first" },
		{ "max,pcid=yes", "pcid=yes: a feature is 'on' or 'off'" },
		{ "max,vendor=Intel", "vendor=Intel: must be 12 characters" },
		{ "", "an empty item" },
		{ "max,", "an empty item" },
		{ "max,,+pcid", "an empty item" },
	};
	struct cpu_model m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *err = parse(&m, bad[i].spec);

		ASSERT_NE(NULL, err) TH_LOG("'%s' was accepted", bad[i].spec);
		EXPECT_NE(NULL, strstr(err, bad[i].err))
		TH_LOG("'%s': got '%s', expected '%s'", bad[i].spec, err, bad[i].err);
	}
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == 0)
			return &c->entries[i];
	return NULL;
}

static struct kvm_cpuid2 *supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 1024 * sizeof(c->entries[0]));
	int fd = kvm_open();

	c->nent = 1024;
	kvm_ioctl_or_die(fd, KVM_GET_SUPPORTED_CPUID, "KVM_GET_SUPPORTED_CPUID", c);
	close(fd);
	return c;
}

/* The guest's CPUID, under model (NULL: none); reports in vcpu->reports. */
static struct vcpu *run_cpuid_guest(struct __test_metadata *_metadata,
				    const struct cpu_model *model)
{
	struct vm *vm = vm_create();
	struct vcpu *vcpu;

	vm->cpu_model = model;
	vm_add_memory(vm, 0, MEM_SIZE);
	vcpu = test_add_real_mode_vcpu(vm, 0, cpuid_guest_start, cpuid_guest_end);
	EXPECT_EQ(0, __vcpu_set_cpuid(vcpu)) TH_LOG("%s", vm->error);
	EXPECT_EQ(VCPU_EXITED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_EQ(5, vcpu->nr_reports);
	return vcpu;
}

/*
 * The model against no model, in the guest's own CPUID: only what it
 * takes away differs (some KVMs, kvm_pvm for one, show the guest more
 * than their supported set, so that is the base compared against).
 */
TEST(guest_sees_the_model)
{
	struct kvm_cpuid2 *c;
	struct cpu_model m;
	struct vcpu *vcpu;
	char vendor[13] = "";
	uint32_t ecx1, ebx7;

	TEST_REQUIRE(need_mode(KVM_MODE_REAL));
	c = supported();
	ASSERT_NE(NULL, find(c, 1));

	/* No model: KVM's own vendor and features, the TSC-deadline timer too. */
	vcpu = run_cpuid_guest(_metadata, NULL);
	ecx1 = vcpu->reports[3][1];
	ebx7 = vcpu->reports[4][1];
	EXPECT_EQ(find(c, 0)->ebx, vcpu->reports[0][1]);
	EXPECT_EQ(find(c, 1)->ecx & X2APIC_BIT, ecx1 & X2APIC_BIT);
	if (!need_cap(KVM_CAP_TSC_DEADLINE_TIMER))
		EXPECT_NE(0, ecx1 & TSC_DEADLINE_BIT);
	vm_destroy(vcpu->vm);

	ASSERT_EQ(NULL, parse(&m, "max,-x2apic,-pcid,-invpcid,vendor=GenuineIntel"));
	vcpu = run_cpuid_guest(_metadata, &m);
	for (int i = 0; i < 3; i++)
		memcpy(vendor + 4 * i, &vcpu->reports[i][1], 4);
	EXPECT_STREQ("GenuineIntel", vendor);
	EXPECT_EQ(ecx1 & ~(X2APIC_BIT | PCID_BIT), vcpu->reports[3][1])
	TH_LOG("CPUID.1:ECX %08x, without the model %08x", vcpu->reports[3][1], ecx1);
	EXPECT_EQ(ebx7 & ~INVPCID_BIT, vcpu->reports[4][1]);
	vm_destroy(vcpu->vm);
	free(c);
}

/* Exactly the features turned on that the supported set lacks. */
TEST(missing_features_are_named)
{
	struct kvm_cpuid2 *c;
	char missing[200], want[200] = "";
	struct cpu_model m;
	uint32_t ecx1;
	int fd;

	TEST_REQUIRE(need_mode(KVM_MODE_REAL));
	c = supported();
	ecx1 = find(c, 1)->ecx;
	free(c);
	ASSERT_EQ(NULL, parse(&m, "max,+vmx,+pcid,-x2apic"));
	fd = kvm_open();
	ASSERT_EQ(0, __kvm_cpu_model_missing(fd, &m, missing, sizeof(missing)));
	close(fd);
	if (!(ecx1 & (1u << 5)))
		strcat(want, "vmx");
	if (!(ecx1 & PCID_BIT))
		strcat(want, want[0] ? ", pcid" : "pcid");
	EXPECT_STREQ(want, missing);
}

TEST_HARNESS_MAIN
