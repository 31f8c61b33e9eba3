// SPDX-License-Identifier: MIT
/*
 * The CPU a vCPU reports through CPUID: all that KVM supports
 * (KVM_GET_SUPPORTED_CPUID, with KVM's own signature at 0x40000000 kept),
 * plus mini-kvm's signature at HC_CPUID_LEAF, less the features a CPU
 * model (--cpu) takes away, with the vendor it names. QEMU's -cpu host,
 * max and qemu64 are all that same supported set here: kvm-unit-tests
 * asks for a model and then turns single features on or off, and those
 * features are what it tests.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/kvm.h"

enum cpuid_reg { CPUID_EAX, CPUID_EBX, CPUID_ECX, CPUID_EDX };

struct cpu_feature {
	const char *name; /* QEMU's */
	uint32_t function, index;
	enum cpuid_reg reg;
	uint8_t bit;
};

/* Intel SDM vol. 2A, CPUID; AMD APM vol. 3, appendix E. */
static const struct cpu_feature features[] = {
	{ .name = "vmx", .function = 1, .index = 0, .reg = CPUID_ECX, .bit = 5 },
	{ .name = "pcid", .function = 1, .index = 0, .reg = CPUID_ECX, .bit = 17 },
	{ .name = "x2apic", .function = 1, .index = 0, .reg = CPUID_ECX, .bit = 21 },
	{ .name = "tsc-deadline", .function = 1, .index = 0, .reg = CPUID_ECX, .bit = 24 },
	{ .name = "invpcid", .function = 7, .index = 0, .reg = CPUID_EBX, .bit = 10 },
	{ .name = "umip", .function = 7, .index = 0, .reg = CPUID_ECX, .bit = 2 },
	{ .name = "svm", .function = 0x80000001, .index = 0, .reg = CPUID_ECX, .bit = 2 },
	{ .name = "rdtscp", .function = 0x80000001, .index = 0, .reg = CPUID_EDX, .bit = 27 },
};
#define NR_FEATURES (sizeof(features) / sizeof(features[0]))
_Static_assert(NR_FEATURES <= 32, "struct cpu_model keeps the features in a 32-bit mask");

static const char *const models[] = { "host", "max", "qemu64" };

static int feature_index(const char *name)
{
	for (size_t i = 0; i < NR_FEATURES; i++)
		if (!strcmp(features[i].name, name))
			return i;
	return -1;
}

static bool is_model(const char *name)
{
	for (size_t i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (!strcmp(models[i], name))
			return true;
	return false;
}

static void feature_names(char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < NR_FEATURES && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", features[i].name);
}

/* The last word about a feature wins, as in QEMU. */
static void model_turn(struct cpu_model *model, int feature, bool on)
{
	uint32_t bit = 1u << feature;

	model->add = on ? model->add | bit : model->add & ~bit;
	model->remove = on ? model->remove & ~bit : model->remove | bit;
}

static int parse_vendor(struct cpu_model *model, const char *vendor, char *err, size_t errlen)
{
	if (strlen(vendor) != CPU_VENDOR_LEN)
		return load_error(
			err, errlen, EINVAL,
			"vendor=%s: must be %d characters, as GenuineIntel or AuthenticAMD", vendor,
			CPU_VENDOR_LEN);
	memcpy(model->vendor, vendor, CPU_VENDOR_LEN + 1);
	return 0;
}

/*
 * One item after the model: +FEATURE, -FEATURE, FEATURE=on|off, vendor=NAME,
 * or host-phys-bits[=on] (what every model here has).
 */
static int parse_item(struct cpu_model *model, char *item, char *err, size_t errlen)
{
	char names[200], *value = strchr(item, '=');
	bool on = *item != '-';
	int feature;

	if (value)
		*value++ = '\0';
	if (value && !strcmp(item, "vendor"))
		return parse_vendor(model, value, err, errlen);
	if (value && strcmp(value, "on") && strcmp(value, "off"))
		return load_error(err, errlen, EINVAL, "%s=%s: a feature is 'on' or 'off'", item,
				  value);
	/* Every vCPU gets KVM's leaf 0x80000008: the host's address width. */
	if (!strcmp(item, "host-phys-bits"))
		return !value || !strcmp(value, "on")
			       ? 0
			       : load_error(err, errlen, EINVAL,
					    "host-phys-bits=off: mini-kvm's CPUs always have the "
					    "host's physical address width");
	if (value)
		on = !strcmp(value, "on");
	else if (is_model(item))
		return load_error(err, errlen, EINVAL, "'%s': the CPU model comes first", item);
	else if (*item != '+' && *item != '-')
		return load_error(err, errlen, EINVAL,
				  "'%s': a feature is +NAME, -NAME or NAME=on|off", item);
	else
		item++;
	feature = feature_index(item);
	if (feature < 0) {
		feature_names(names, sizeof(names));
		return load_error(err, errlen, EINVAL,
				  "unknown CPU feature '%s' (known: %s, vendor=)", item, names);
	}
	model_turn(model, feature, on);
	return 0;
}

/*
 * SPEC: [MODEL][,ITEM]..., QEMU's -cpu syntax for the models and features
 * above. Returns 0, or -EINVAL with the reason in err.
 */
int cpu_model_parse(struct cpu_model *model, const char *spec, char *err, size_t errlen)
{
	char buf[512], *save, *item;
	int ret = 0;

	memset(model, 0, sizeof(*model));
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf))
		return load_error(err, errlen, EINVAL, "longer than %zu characters",
				  sizeof(buf) - 1);
	if (!*spec || *spec == ',' || strstr(spec, ",,") || spec[strlen(spec) - 1] == ',')
		return load_error(err, errlen, EINVAL, "an empty item");
	item = strtok_r(buf, ",", &save);
	if (*item != '+' && *item != '-' && !strchr(item, '=')) {
		if (!is_model(item))
			return load_error(err, errlen, EINVAL,
					  "unknown CPU model '%s' (mini-kvm has host, max and "
					  "qemu64: each is all that KVM supports)",
					  item);
		item = strtok_r(NULL, ",", &save);
	}
	for (; item && !ret; item = strtok_r(NULL, ",", &save))
		ret = parse_item(model, item, err, errlen);
	return ret;
}

static struct kvm_cpuid_entry2 *cpuid_entry(struct kvm_cpuid2 *cpuid, uint32_t function,
					    uint32_t index)
{
	for (uint32_t i = 0; i < cpuid->nent; i++)
		if (cpuid->entries[i].function == function && cpuid->entries[i].index == index)
			return &cpuid->entries[i];
	return NULL;
}

static uint32_t *feature_reg(struct kvm_cpuid2 *cpuid, const struct cpu_feature *f)
{
	struct kvm_cpuid_entry2 *e = cpuid_entry(cpuid, f->function, f->index);

	if (!e)
		return NULL;
	switch (f->reg) {
	case CPUID_EAX:
		return &e->eax;
	case CPUID_EBX:
		return &e->ebx;
	case CPUID_ECX:
		return &e->ecx;
	default:
		return &e->edx;
	}
}

/*
 * KVM_GET_SUPPORTED_CPUID, with one entry free for mini-kvm's leaf. The
 * TSC-deadline timer is a capability of KVM's in-kernel LAPIC, which the
 * supported CPUID leaves out for userspace to add: added where KVM has it.
 */
static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	const struct cpu_feature *deadline = &features[feature_index("tsc-deadline")];

	for (int nent = 64; nent <= 1024; nent *= 2) {
		struct kvm_cpuid2 *cpuid =
			calloc(1, sizeof(*cpuid) + (nent + 1) * sizeof(cpuid->entries[0]));
		int ret;

		if (!cpuid)
			return NULL;
		cpuid->nent = nent;
		ret = __kvm_fd_ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, cpuid, NULL, 0);
		if (!ret) {
			uint32_t *reg = feature_reg(cpuid, deadline);

			if (reg && kvm_check_cap(kvm_fd, KVM_CAP_TSC_DEADLINE_TIMER) > 0)
				*reg |= 1u << deadline->bit;
			return cpuid;
		}
		free(cpuid);
		if (ret != -E2BIG)
			return NULL;
	}
	return NULL;
}

static bool has_feature(struct kvm_cpuid2 *cpuid, const struct cpu_feature *f)
{
	uint32_t *reg = feature_reg(cpuid, f);

	return reg && (*reg >> f->bit & 1);
}

/*
 * The features the model turns on that this KVM cannot give, as
 * "pcid, invpcid" into buf ("" when none). QEMU warns about them and
 * runs without; so does mini-kvm. Returns 0 or -errno.
 */
int __kvm_cpu_model_missing(int kvm_fd, const struct cpu_model *model, char *buf, size_t len)
{
	struct kvm_cpuid2 *cpuid = supported_cpuid(kvm_fd);
	size_t used = 0;

	if (!cpuid)
		return -EIO;
	buf[0] = '\0';
	for (size_t i = 0; i < NR_FEATURES && used < len; i++)
		if (model->add >> i & 1 && !has_feature(cpuid, &features[i]))
			used += snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
					 features[i].name);
	free(cpuid);
	return 0;
}

/* Leaf 0 and 0x80000000 both name the vendor: EBX, EDX, ECX in that order. */
static void set_vendor(struct kvm_cpuid2 *cpuid, const char *vendor)
{
	static const uint32_t leaves[] = { 0, 0x80000000 };

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		struct kvm_cpuid_entry2 *e = cpuid_entry(cpuid, leaves[i], 0);

		if (!e)
			continue;
		memcpy(&e->ebx, vendor, 4);
		memcpy(&e->edx, vendor + 4, 4);
		memcpy(&e->ecx, vendor + 8, 4);
	}
}

/* What a model changes in the supported set: features taken away, the vendor. */
static void apply_model(struct kvm_cpuid2 *cpuid, const struct cpu_model *model)
{
	for (size_t i = 0; i < NR_FEATURES; i++) {
		uint32_t *reg = feature_reg(cpuid, &features[i]);

		if (reg && model->remove >> i & 1)
			*reg &= ~(1u << features[i].bit);
	}
	if (model->vendor[0])
		set_vendor(cpuid, model->vendor);
}

#define CPUID_1_ECX_HYPERVISOR (1u << 31)

/*
 * What KVM leaves to the VMM: the "running under a hypervisor" bit, which
 * Linux checks before it looks for KVM's signature (and so for kvmclock),
 * and each vCPU's own APIC ID in the topology leaves.
 */
static void set_vcpu_identity(struct kvm_cpuid2 *cpuid, uint32_t apic_id)
{
	for (uint32_t i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1) {
			e->ecx |= CPUID_1_ECX_HYPERVISOR;
			e->ebx = (e->ebx & 0x00ffffff) | apic_id << 24;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = apic_id;
		}
	}
}

static void add_minikvm_leaf(struct kvm_cpuid2 *cpuid)
{
	struct kvm_cpuid_entry2 *leaf = cpuid_entry(cpuid, HC_CPUID_LEAF, 0);

	if (!leaf)
		leaf = &cpuid->entries[cpuid->nent++];
	*leaf = (struct kvm_cpuid_entry2){
		.function = HC_CPUID_LEAF,
		.eax = HC_CPUID_LEAF,
		.ebx = HC_CPUID_SIG_EBX,
		.ecx = HC_CPUID_SIG_ECX,
		.edx = HC_CPUID_SIG_EDX,
	};
}

/*
 * The supported CPU (vm->cpu_model applied, when set), plus mini-kvm's
 * signature at HC_CPUID_LEAF. Long mode needs this; protected-mode guests
 * use the leaf to pick their console. Returns 0 or -errno.
 */
int __vcpu_set_cpuid(struct vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid = supported_cpuid(vcpu->vm->kvm_fd);
	int ret;

	if (!cpuid) {
		snprintf(vcpu->vm->error, sizeof(vcpu->vm->error),
			 "KVM_GET_SUPPORTED_CPUID failed");
		return -EIO;
	}
	if (vcpu->vm->cpu_model)
		apply_model(cpuid, vcpu->vm->cpu_model);
	set_vcpu_identity(cpuid, vcpu->id);
	add_minikvm_leaf(cpuid);
	ret = __vcpu_ioctl(vcpu, KVM_SET_CPUID2, cpuid);
	free(cpuid);
	return ret < 0 ? ret : 0;
}
