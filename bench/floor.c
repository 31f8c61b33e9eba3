// SPDX-License-Identifier: MIT
/*
 * floor: the least a program must do to run a guest on KVM, with nothing
 * of mini-kvm in it. Open /dev/kvm, create a VM, one memory slot and one
 * vCPU, enter real mode at 0:0, KVM_RUN until the guest halts. This is the
 * raw-KVM floor that `make bench` holds mini-kvm against.
 *
 *   floor            run a one-byte guest: hlt
 *   floor IMAGE      run a flat real-mode image loaded at 0 instead; every
 *                    port-I/O exit is re-entered at once without looking at
 *                    it (the bare PIO exit loop), until hlt or port 0xf4
 *   floor -o         the built-in guest is "out %al, $0xf4" instead of hlt
 *                    (needed with an irqchip, where hlt stays in the kernel)
 *   floor -i before  create the in-kernel irqchip and PIT before the memory
 *   floor -i after   ... or after the memory slot (before the vCPU)
 *   floor -m         set a KVM_SET_SIGNAL_MASK as mini-kvm does (diagnostic)
 *   floor -r         ask for the registers in kvm_run (KVM_CAP_SYNC_REGS)
 *                    on every exit, as mini-kvm does (diagnostic)
 *   floor -w         -r, and write EAX = 0 back through kvm_run on every
 *                    port-I/O exit, as a mini-kvm hypercall does (diagnostic)
 *   floor -x         exit at once from main: what exec and the loader cost
 *   floor -p         time each phase (explicit teardown included) and print
 *                    "phase NAME MICROSECONDS" lines, and "exits N"
 *
 * Exit status 0 when the guest ended as expected, 1 otherwise.
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MEM_SIZE (256u << 10)
#define DONE_PORT 0xf4

static int phases;
static uint64_t t_last;

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ull + ts.tv_nsec / 1000;
}

static void phase(const char *name)
{
	uint64_t t = now_us();

	if (phases && name)
		fprintf(stderr, "phase %s %llu\n", name, (unsigned long long)(t - t_last));
	t_last = t;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void irqchip(int vm)
{
	struct kvm_pit_config pit = { .flags = 0 };

	if (ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		die("KVM_CREATE_IRQCHIP");
	if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
		die("KVM_CREATE_PIT2");
	phase("irqchip");
}

int main(int argc, char **argv)
{
	static const uint8_t hlt[] = { 0xf4 }, out[] = { 0xe6, DONE_PORT, 0xf4 };
	const uint8_t *code = hlt;
	size_t code_len = sizeof(hlt);
	const char *chip = "none", *image = NULL;
	struct kvm_userspace_memory_region region = { .memory_size = MEM_SIZE };
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 2 };
	struct kvm_run *run;
	unsigned long exits = 0;
	int kvm, vm, vcpu, run_size, c, sigmask = 0, sync_regs = 0, write_eax = 0;
	uint8_t *mem;

	while ((c = getopt(argc, argv, "opi:mrwx")) != -1) {
		switch (c) {
		case 'o': code = out; code_len = sizeof(out); break;
		case 'm': sigmask = 1; break;
		case 'r': sync_regs = 1; break;
		case 'w': sync_regs = write_eax = 1; break;
		case 'x': return 0;
		case 'p': phases = 1; break;
		case 'i': chip = optarg; break;
		default:
			fprintf(stderr, "usage: floor [-o] [-p] [-m] [-r] [-w] [-x] [-i none|before|after] [IMAGE]\n");
			return 2;
		}
	}
	if (optind < argc)
		image = argv[optind];
	phase(NULL);

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		die("/dev/kvm");
	phase("open");
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0)
		die("KVM_CREATE_VM");
	phase("create_vm");
	if (!strcmp(chip, "before"))
		irqchip(vm);

	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	if (image) {
		int fd = open(image, O_RDONLY);

		if (fd < 0 || read(fd, mem, MEM_SIZE) <= 0)
			die(image);
		close(fd);
	} else {
		memcpy(mem, code, code_len);
	}
	region.userspace_addr = (uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	phase("memory");
	if (!strcmp(chip, "after"))
		irqchip(vm);

	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	run_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vcpu < 0 || run_size <= 0)
		die("KVM_CREATE_VCPU");
	run = mmap(NULL, run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (run == MAP_FAILED)
		die("mmap kvm_run");
	if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0 || ioctl(vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_SREGS/KVM_SET_REGS");
	if (sigmask) {
		struct {
			struct kvm_signal_mask head;
			uint8_t set[8];
		} mask = { .head.len = 8 };
		sigset_t set;

		sigprocmask(SIG_BLOCK, NULL, &set);
		memcpy(mask.set, &set, sizeof(mask.set));
		if (ioctl(vcpu, KVM_SET_SIGNAL_MASK, &mask) < 0)
			die("KVM_SET_SIGNAL_MASK");
	}
	if (sync_regs)
		run->kvm_valid_regs = KVM_SYNC_X86_REGS;
	phase("vcpu");

	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			die("KVM_RUN");
		if (!exits++)
			phase("first_exit");
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason != KVM_EXIT_IO) {
			fprintf(stderr, "floor: unexpected exit reason %u\n", run->exit_reason);
			return 1;
		}
		if (run->io.port == DONE_PORT)
			break;
		if (write_eax) {
			run->s.regs.regs.rax = 0;
			run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
		}
	}
	if (exits > 1)
		phase("more_exits");

	if (phases) {
		munmap(run, run_size);
		close(vcpu);
		close(vm);
		munmap(mem, MEM_SIZE);
		close(kvm);
		phase("teardown");
		fprintf(stderr, "exits %lu\n", exits);
	}
	return 0;
}
