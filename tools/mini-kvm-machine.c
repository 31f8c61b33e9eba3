// SPDX-License-Identifier: MIT
/*
 * The machine around a guest, beyond its first vCPU: the devices the
 * options ask for, the other vCPUs of --smp, and the multiboot hand-over.
 * Then the run: each vCPU on its own thread; the first one to end (an
 * exit port, HC_EXIT, a crash, its time limit) ends the VM, and every
 * other vCPU is stopped.
 */
#include <errno.h>
#include <string.h>

#include "mini-kvm/device.h"
#include "mini-kvm.h"

struct machine machine = { .smp = 1 };

static int add_devices(struct guest *g)
{
	int ret = 0;

	if (!g->real)
		ret = fw_cfg_add(g->vm, machine.smp, g->mem);
	if (!ret && machine.debug_exit)
		ret = debug_exit_add(g->vm);
	if (!ret && machine.pc_testdev)
		ret = pc_testdev_add(g->vm);
	return ret;
}

/* Application processors: KVM holds them until the boot CPU's INIT and SIPI. */
static int add_aps(struct guest *g)
{
	for (int i = 1; i < machine.smp; i++) {
		struct vcpu *ap;
		int ret = __vcpu_add(g->vm, &ap);

		if (!ret)
			ret = __vcpu_set_cpuid(ap);
		if (ret)
			return ret;
	}
	return 0;
}

/* What the boot protocol gets for g: checked, then loaded, the same. */
struct linux_boot linux_boot_of(const struct guest *g)
{
	return (struct linux_boot){
		.kernel = g->image,
		.kernel_len = g->len,
		.cmdline = machine.append ? machine.append : LINUX_DEFAULT_CMDLINE,
		.initrd = machine.initrd,
		.initrd_len = machine.initrd_len,
	};
}

/*
 * A Linux kernel: the PC's power-off, reset and clock, ACPI's tables (the MADT
 * lists every vCPU), then the boot protocol's hand-over on vCPU 0.
 */
static int enter_linux(struct guest *g)
{
	struct linux_boot boot = linux_boot_of(g);
	int ret = acpi_pm_add(g->vm);

	if (!ret)
		ret = i8042_add(g->vm);
	if (!ret)
		ret = rtc_add(g->vm);
	if (!ret)
		ret = __vm_write_acpi(g->vm, machine.smp, &boot.rsdp_gpa);
	if (!ret)
		ret = __vm_load_bzimage(g->vm, &boot);
	if (!ret)
		vcpu_set_linux_entry(g->vcpu);
	return ret;
}

/*
 * What a PC's firmware leaves a multiboot kernel beyond the loader's
 * information: the CMOS clock, and ACPI's tables with the PM1a ports
 * (kvm-unit-tests' s3 suspends to RAM through them). A kernel loaded over
 * the BIOS area where the tables go, or too little RAM to hold them, and
 * there are none.
 */
static int add_acpi_and_clock(struct guest *g)
{
	uint64_t rsdp_gpa;
	int ret = rtc_add(g->vm);

	if (ret || !vm_gpa_to_hva(g->vm, ACPI_AREA_GPA, ACPI_AREA_LEN) ||
	    (image_is_elf(g->image, g->len) &&
	     elf_overlaps(g->image, ACPI_AREA_GPA, ACPI_AREA_LEN)))
		return ret;
	ret = acpi_pm_add(g->vm);
	return ret ? ret : __vm_write_acpi(g->vm, machine.smp, &rsdp_gpa);
}

/* EAX = the loader's magic, EBX = its information, as multiboot says. */
static int enter_multiboot(struct guest *g)
{
	char cmdline[4096];
	struct multiboot_args args = {
		.mem_size = g->mem,
		.elf = image_is_elf(g->image, g->len) ? g->image : NULL,
		.cmdline = cmdline,
		.module = machine.initrd,
		.module_len = machine.initrd_len,
	};
	struct kvm_regs regs;
	uint32_t info;
	int ret;

	/* A program name first, as QEMU gives it: the kernel's argv[0]. */
	if (snprintf(cmdline, sizeof(cmdline), "%s%s%s", g->arg, machine.append ? " " : "",
		     machine.append ? machine.append : "") >= (int)sizeof(cmdline)) {
		snprintf(g->vm->error, sizeof(g->vm->error), "--append: longer than %zu bytes",
			 sizeof(cmdline) - 1);
		return -E2BIG;
	}
	ret = __vm_write_multiboot(g->vm, &args, &info);
	if (!ret)
		ret = add_acpi_and_clock(g);
	if (ret)
		return ret;
	vcpu_regs_get(g->vcpu, &regs);
	regs.rax = MULTIBOOT_LOADER_MAGIC;
	regs.rbx = info;
	vcpu_regs_set(g->vcpu, &regs);
	return 0;
}

int machine_setup(struct guest *g, char *err, size_t errlen)
{
	int ret = add_devices(g);

	if (!ret && !g->real)
		ret = add_aps(g);
	if (!ret && g->is_linux)
		ret = enter_linux(g);
	else if (!ret && !g->real)
		ret = enter_multiboot(g);
	if (ret)
		snprintf(err, errlen, "%s", g->vm->error[0] ? g->vm->error : strerror(-ret));
	return ret;
}

/*
 * Runs one vCPU to its end; HC_SYNC means nothing to the command. With
 * --gdb it waits for gdb before its first instruction, and at each
 * VCPU_DEBUG (only gdb makes them) until gdb lets it go on.
 */
static enum vcpu_result run_to_end(struct vcpu *vcpu, uint64_t deadline_ns)
{
	enum vcpu_result result;

	if (gdb_enabled() && !gdb_vcpu_start(vcpu))
		return vcpu_end(vcpu, VCPU_STOPPED, "killed by gdb");
	do {
		uint64_t now = now_ns();
		unsigned int left = 0;

		if (deadline_ns)
			left = now < deadline_ns ? (deadline_ns - now + 999999) / 1000000 : 1;
		result = vcpu_run(vcpu, left);
		if (result == VCPU_DEBUG && !gdb_vcpu_stop(vcpu))
			return vcpu_end(vcpu, VCPU_STOPPED, "killed by gdb");
	} while (result == VCPU_SYNC || result == VCPU_DEBUG);
	return result;
}

struct ap_run {
	struct guest *g;
	struct vcpu *vcpu;
	uint64_t deadline_ns;
	pthread_t thread;
	enum vcpu_result result;
};

/* The first vCPU to end on its own ends them all. */
static void vcpu_ended(struct guest *g, struct vcpu *vcpu, enum vcpu_result result)
{
	int none = -1;

	if (result == VCPU_STOPPED)
		return;
	if (__atomic_compare_exchange_n(&g->ender, &none, vcpu->id, false, __ATOMIC_SEQ_CST,
					__ATOMIC_SEQ_CST))
		vm_kick_all(g->vm);
}

static void *ap_thread(void *arg)
{
	struct ap_run *ap = arg;

	ap->result = run_to_end(ap->vcpu, ap->deadline_ns);
	vcpu_ended(ap->g, ap->vcpu, ap->result);
	return NULL;
}

enum vcpu_result machine_run(struct guest *g, unsigned int timeout_ms)
{
	uint64_t deadline_ns = timeout_ms ? now_ns() + timeout_ms * 1000000ull : 0;
	struct ap_run aps[VM_MAX_VCPUS];
	enum vcpu_result result = VCPU_CRASHED;
	int nr_aps;

	g->ender = -1;
	for (nr_aps = 0; nr_aps < g->vm->nr_vcpus - 1; nr_aps++) {
		aps[nr_aps] = (struct ap_run){ .g = g,
					       .vcpu = g->vm->vcpus[nr_aps + 1],
					       .deadline_ns = deadline_ns };
		if (pthread_create(&aps[nr_aps].thread, NULL, ap_thread, &aps[nr_aps]))
			break;
	}
	if (nr_aps == g->vm->nr_vcpus - 1)
		result = run_to_end(g->vcpu, deadline_ns);
	else
		vcpu_end(g->vcpu, VCPU_CRASHED, "cannot start a thread for vCPU %d", nr_aps + 1);
	vcpu_ended(g, g->vcpu, result);
	for (int i = 0; i < nr_aps; i++)
		pthread_join(aps[i].thread, NULL);
	if (g->ender <= 0)
		return result;
	g->vcpu = g->vm->vcpus[g->ender];
	return aps[g->ender - 1].result;
}
