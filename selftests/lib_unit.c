// SPDX-License-Identifier: MIT
/*
 * lib_unit: the library parts that need no KVM, checked on their own:
 * descriptor and page-directory encodings, the overflow-safe guest address
 * check, the image loaders' refusals, hypercall decoding and the UART.
 * The VM and vCPU here are plain memory: the vCPU's fd is -1, so an ioctl
 * fails, and its message names it.
 */
#include <elf.h>
#include <stdlib.h>

#include "mini-kvm/device.h"
#include "test_util.h"

#define MEM_SIZE 0x10000

FIXTURE(fake) {
	struct vm vm;
	struct vcpu vcpu;
	struct kvm_run run;
	uint8_t io_data[16];
	struct test_console tc;
};

FIXTURE_SETUP(fake)
{
	memset(&self->vm, 0, sizeof(self->vm));
	memset(&self->vcpu, 0, sizeof(self->vcpu));
	memset(&self->run, 0, sizeof(self->run));
	self->vm.nr_mem = 1;
	self->vm.mem[0] = (struct vm_mem){ .gpa = 0x100000, .size = MEM_SIZE,
					   .host = calloc(1, MEM_SIZE) };
	self->vm.has_sync_regs = true; /* registers live in kvm_run: no ioctl */
	self->vcpu.vm = &self->vm;
	self->vcpu.fd = -1;
	self->vcpu.run = &self->run;
	console_init(&self->vm.console);
	ASSERT_EQ(0, hypercall_device_add(&self->vm));
	ASSERT_EQ(0, uart_add(&self->vm, COM1_PORT));
	test_console_attach(&self->vcpu, &self->tc, "in");
}

FIXTURE_TEARDOWN(fake)
{
	bus_release(&self->vm.pio);
	free(self->vm.mem[0].host);
}

TEST(gdt_entry_encodes_flat_segments)
{
	EXPECT_EQ(0x00cf9a000000ffffull, gdt_entry(0, 0xfffff, 0x9a, 0xc));
	EXPECT_EQ(0x00cf92000000ffffull, gdt_entry(0, 0xfffff, 0x92, 0xc));
	EXPECT_EQ(0x12408934567800ffull, gdt_entry(0x12345678, 0xff, 0x89, 0x4));
}

TEST(pse_entries_and_map)
{
	uint32_t pd[1024] = { 0 };

	EXPECT_EQ(0x00000083u, pse_pde(0, false, true));
	EXPECT_EQ(0x00400085u, pse_pde(0x00400000, true, false));
	EXPECT_EQ(0x00800087u, pse_pde(0x00812345, true, true)) TH_LOG("low bits dropped");
	pse_map(pd, 0x80000000, 0, 8 << 20, false, true);
	EXPECT_EQ(0x00000083u, pd[512]);
	EXPECT_EQ(0x00400083u, pd[513]);
	EXPECT_EQ(0u, pd[514]);
	EXPECT_EQ(0u, pd[511]);
	pse_map(pd, 0xffc00000, 0, 64 << 20, false, true); /* must stop at pd[1023] */
	EXPECT_EQ(0x00000083u, pd[1023]);
}

TEST_F(fake, gpa_bounds_check_cannot_wrap)
{
	struct vm *vm = &self->vm;

	EXPECT_EQ(vm->mem[0].host, vm_gpa_to_hva(vm, 0x100000, MEM_SIZE));
	EXPECT_EQ(vm->mem[0].host + 0xfff0, vm_gpa_to_hva(vm, 0x10fff0, 0x10));
	EXPECT_EQ(NULL, vm_gpa_to_hva(vm, 0x10fff0, 0x11));
	EXPECT_EQ(NULL, vm_gpa_to_hva(vm, 0xfffff, 1));
	EXPECT_EQ(NULL, vm_gpa_to_hva(vm, 0x110000, 0));
	EXPECT_EQ(NULL, vm_gpa_to_hva(vm, 0x100010, UINT64_MAX));
	EXPECT_EQ(NULL, vm_gpa_to_hva(vm, UINT64_MAX, 2));
}

TEST_F(fake, flat_loader_refuses_empty_and_oversized)
{
	static uint8_t image[MEM_SIZE + 1];
	const char *err = self->vm.error;

	EXPECT_EQ(-ENOEXEC, __vm_load_flat(&self->vm, 0x100000, image, 0));
	EXPECT_STREQ("image is empty", err);
	EXPECT_EQ(-EFBIG, __vm_load_flat(&self->vm, 0x100000, image, sizeof(image)));
	EXPECT_STREQ("image is 65537 bytes, larger than the guest memory at 0x100000 (65536 bytes)",
		     err);
	image[0] = 0xf4;
	EXPECT_EQ(0, __vm_load_flat(&self->vm, 0x100000, image, MEM_SIZE));
	EXPECT_EQ(0xf4, self->vm.mem[0].host[0]);
}

/* The same answers without a VM, from memory of the same end. */
TEST(flat_check_without_a_vm)
{
	char err[160];

	EXPECT_EQ(-ENOEXEC, flat_check(0x100000, 0, 0x100000 + MEM_SIZE, err, sizeof(err)));
	EXPECT_STREQ("image is empty", err);
	EXPECT_EQ(-EFBIG, flat_check(0x100000, MEM_SIZE + 1, 0x100000 + MEM_SIZE, err, sizeof(err)));
	EXPECT_STREQ("image is 65537 bytes, larger than the guest memory at 0x100000 (65536 bytes)",
		     err);
	EXPECT_EQ(0, flat_check(0x100000, MEM_SIZE, 0x100000 + MEM_SIZE, err, sizeof(err)));
	EXPECT_EQ(-EFBIG, flat_check(0x100000, 1, 0x1000, err, sizeof(err)));
	EXPECT_STREQ("image is 1 bytes, larger than the guest memory at 0x100000 (0 bytes)", err);
	EXPECT_EQ(-EFBIG, flat_check(UINT64_MAX, 2, UINT64_MAX, err, sizeof(err))) TH_LOG("wrapped");
}

struct tiny_elf {
	Elf32_Ehdr eh;
	Elf32_Phdr ph[2];
	uint8_t code[4];
};

static struct tiny_elf tiny_elf(void)
{
	struct tiny_elf e = {
		.eh = { .e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS32,
				     ELFDATA2LSB, EV_CURRENT },
			.e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
			.e_entry = 0x100000, .e_phoff = offsetof(struct tiny_elf, ph),
			.e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
			.e_phnum = 1 },
		.ph[0] = { .p_type = PT_LOAD, .p_offset = offsetof(struct tiny_elf, code),
			   .p_paddr = 0x100000, .p_filesz = 4, .p_memsz = 0x100 },
		.code = { 0xf4, 0xf4, 0xf4, 0xf4 },
	};
	return e;
}

/*
 * The loader's answer, which elf_check() must give too without the VM: its
 * one slot ends where the memory elf_check() is given ends.
 */
static const char *load(struct vm *vm, struct tiny_elf *e, size_t len)
{
	static char check_err[160];
	int checked = elf_check(e, len, 0x100000 + MEM_SIZE, check_err, sizeof(check_err));
	uint32_t entry;
	int loaded = __vm_load_elf(vm, e, len, &entry);

	if (loaded)
		return loaded == checked && !strcmp(vm->error, check_err) ? check_err
									   : "elf_check() disagrees";
	if (checked)
		return "elf_check() disagrees";
	return entry == e->eh.e_entry ? "loaded" : "wrong entry";
}

TEST_F(fake, elf_loader_checks_every_field)
{
	struct tiny_elf e = tiny_elf();

	self->vm.mem[0].host[0x10] = 0x55;
	EXPECT_STREQ("loaded", load(&self->vm, &e, sizeof(e)));
	EXPECT_EQ(0xf4, self->vm.mem[0].host[0]);
	EXPECT_EQ(0, self->vm.mem[0].host[0x10]) TH_LOG("bss not zeroed");

	EXPECT_NE(NULL, strstr(load(&self->vm, &e, 20), "not an ELF"));
	e = tiny_elf(), e.eh.e_ident[EI_MAG1] = 'X';
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "not an ELF"));
	e = tiny_elf(), e.eh.e_ident[EI_CLASS] = ELFCLASS64;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "ELFCLASS32"));
	e = tiny_elf(), e.eh.e_machine = EM_X86_64;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "EM_386"));
	e = tiny_elf(), e.eh.e_phoff = 0xfffffff0;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "program headers"));
	e = tiny_elf(), e.eh.e_phnum = 0x7fff;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "program headers"));
	e = tiny_elf(), e.ph[0].p_offset = 0xfffffffe;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "outside the file"));
	e = tiny_elf(), e.ph[0].p_filesz = 0x200;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "outside the file"));
	e = tiny_elf(), e.ph[0].p_paddr = 0xfffffff0;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "outside guest memory"));
	e = tiny_elf(), e.ph[0].p_memsz = MEM_SIZE + 1;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "outside guest memory"));
	e = tiny_elf(), e.eh.e_entry = 0x100100;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "entry point"));
	e = tiny_elf(), e.eh.e_phnum = 2, e.ph[1] = e.ph[0], e.ph[1].p_paddr = 0x1000f0;
	EXPECT_NE(NULL, strstr(load(&self->vm, &e, sizeof(e)), "overlap"));
}

/* Pretend the guest just did `out %al, (%dx)` with these registers. */
static int hypercall(struct vcpu *vcpu, uint8_t fn, uint32_t ebx, uint32_t ecx)
{
	struct kvm_run *run = vcpu->run;

	run->s.regs.regs = (struct kvm_regs){ .rbx = ebx, .rcx = ecx };
	return bus_access(vcpu, &vcpu->vm->pio, HC_PORT, &fn, 1, true);
}

TEST_F(fake, hypercall_decoding)
{
	struct vcpu *vcpu = &self->vcpu;

	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, HC_PUTCHAR, 'h', 0));
	EXPECT_EQ(0, vcpu->run->s.regs.regs.rax);
	EXPECT_EQ(KVM_SYNC_X86_REGS, vcpu->run->kvm_dirty_regs) TH_LOG("EAX not written back");
	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, HC_GETCHAR, 0, 0));
	EXPECT_EQ('i', vcpu->run->s.regs.regs.rax);
	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, HC_GETCHAR, 0, 0));
	EXPECT_EQ('n', vcpu->run->s.regs.regs.rax);
	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, HC_GETCHAR, 0, 0));
	EXPECT_EQ(HC_EOF, vcpu->run->s.regs.regs.rax);
	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, 200, 0, 0));
	EXPECT_EQ(HC_ERR_NOSYS, vcpu->run->s.regs.regs.rax);
	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, HC_WRITE, 0, HC_WRITE_MAX + 1));
	EXPECT_EQ(HC_ERR_INVAL, vcpu->run->s.regs.regs.rax);
	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, HC_WRITE, 0xffffff00, 0x100 + 1));
	EXPECT_EQ(HC_ERR_FAULT, vcpu->run->s.regs.regs.rax);
	EXPECT_EQ(VCPU_EXITED, hypercall(vcpu, HC_EXIT, 3, 0));
	EXPECT_EQ(3, vcpu->exit_status);
	EXPECT_EQ(VCPU_BAD_HYPERCALL, hypercall(vcpu, HC_EXIT, 256, 0));
	EXPECT_STREQ("h", self->tc.out);
	EXPECT_EQ(1, vcpu->stats.hypercalls[HC_NR_FUNCTIONS]);
}

/* Whatever makes the call, a failed ioctl is named in vm->error. */
TEST_F(fake, failed_ioctl_is_named)
{
	struct vcpu *vcpu = &self->vcpu;
	uint64_t gpa;

	EXPECT_EQ(-EFAULT, __vcpu_translate(vcpu, 0x100000, &gpa));
	EXPECT_STREQ("KVM_TRANSLATE failed: Bad file descriptor (errno 9)", self->vm.error);
	EXPECT_EQ(VCPU_CONTINUE, hypercall(vcpu, HC_WRITE, 0x100000, 1));
	EXPECT_EQ(HC_ERR_FAULT, vcpu->run->s.regs.regs.rax) TH_LOG("no CR0, no write");
	EXPECT_STREQ("KVM_GET_SREGS failed: Bad file descriptor (errno 9)", self->vm.error);
}

/* One byte to or from COM1 register reg, through the bus. */
static void uart_io(struct vcpu *vcpu, unsigned int reg, bool out, uint8_t *byte)
{
	bus_access(vcpu, &vcpu->vm->pio, COM1_PORT + reg, byte, 1, out);
}

TEST_F(fake, uart_transmits_and_reports_input)
{
	struct vcpu *vcpu = &self->vcpu;
	uint8_t byte;

	uart_io(vcpu, 5, false, &byte);
	EXPECT_EQ(0x61, byte) TH_LOG("LSR: THR empty and data ready");
	uart_io(vcpu, 0, false, &byte);
	EXPECT_EQ('i', byte);
	uart_io(vcpu, 0, false, &byte);
	EXPECT_EQ('n', byte);
	uart_io(vcpu, 5, false, &byte);
	EXPECT_EQ(0x60, byte) TH_LOG("LSR: no more input");
	byte = 'u';
	uart_io(vcpu, 0, true, &byte);
	byte = 0x80; /* DLAB: the next two registers are the divisor */
	uart_io(vcpu, 3, true, &byte);
	byte = 'x';
	uart_io(vcpu, 0, true, &byte);
	EXPECT_STREQ("u", self->tc.out) TH_LOG("a divisor byte reached the console");
	uart_io(vcpu, 0, false, &byte);
	EXPECT_EQ('x', byte) TH_LOG("DLL does not read back");
}

TEST_HARNESS_MAIN
