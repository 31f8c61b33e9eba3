// SPDX-License-Identifier: MIT
/*
 * A Linux bzImage, loaded by the x86 boot protocol (2.06 and later, see
 * the kernel's Documentation/arch/x86/boot.rst) and entered at its 32-bit
 * entry point. No firmware runs: we are the boot loader. The file is
 * distrusted: every field that says where or how big is checked against
 * the file and guest memory first, and no sum may wrap.
 *
 * Low memory, as the kernel finds it: a GDT at 0x1000, boot_params (the
 * "zero page") at 0x10000, the command line at 0x20000; ACPI's tables
 * (lib/boot/acpi.c) in the BIOS area from 0xe0000. The kernel at 1 MiB, the
 * initrd as high as the kernel allows.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "mini-kvm/kvm.h"

#define GDT_GPA 0x1000u
#define BOOT_PARAMS_GPA 0x10000u
#define CMDLINE_GPA 0x20000u
#define CMDLINE_MAX 0xffffu /* up to the end of its 64 KiB */
#define KERNEL_GPA 0x100000u
#define LOW_RAM_END 0x9fc00u
#define BIOS_AREA 0xe0000u
#define HDR_OFFSET 0x1f1u
#define HDR_MAGIC_OFFSET 0x202u
#define HDR_MAGIC 0x53726448u /* "HdrS" */
#define MIN_VERSION 0x206u
#define BOOT_CS 0x10 /* the selectors boot.rst asks for */
#define BOOT_DS 0x18
#define E820_RAM 1
#define E820_RESERVED 2
#define PAGE_MASK 0xfffull

bool image_is_bzimage(const void *image, size_t len)
{
	uint32_t magic;

	if (len < HDR_MAGIC_OFFSET + sizeof(magic))
		return false;
	memcpy(&magic, (const uint8_t *)image + HDR_MAGIC_OFFSET, sizeof(magic));
	return magic == HDR_MAGIC;
}

/* Where everything goes, once the file and the arguments are checked. */
struct bz_layout {
	struct setup_header hdr;
	uint64_t kernel_off, kernel_len;
	uint64_t initrd_gpa;
};

/* The setup header, as far as the file has it (its jump says how far). */
static int read_header(const struct linux_boot *boot, struct setup_header *hdr, char *err,
		       size_t errlen)
{
	const uint8_t *file = boot->kernel;
	uint64_t end;

	if (!image_is_bzimage(file, boot->kernel_len))
		return load_error(err, errlen, ENOEXEC, "not a bzImage (no \"HdrS\" at 0x202)");
	end = HDR_MAGIC_OFFSET + file[0x201]; /* the short jmp over the header */
	if (end > boot->kernel_len)
		return load_error(err, errlen, ENOEXEC,
				  "truncated bzImage: the setup header ends past the file");
	memset(hdr, 0, sizeof(*hdr));
	if (end > HDR_OFFSET + sizeof(*hdr))
		end = HDR_OFFSET + sizeof(*hdr);
	memcpy(hdr, file + HDR_OFFSET, end - HDR_OFFSET);
	if (hdr->version < MIN_VERSION)
		return load_error(err, errlen, ENOEXEC,
				  "boot protocol %u.%02u: 2.06 or later is needed",
				  hdr->version >> 8, hdr->version & 0xff);
	if (end < HDR_OFFSET + offsetof(struct setup_header, cmdline_size) + 4)
		return load_error(err, errlen, ENOEXEC,
				  "setup header too short for protocol %u.%02u", hdr->version >> 8,
				  hdr->version & 0xff);
	if (!(hdr->loadflags & LOADED_HIGH))
		return load_error(err, errlen, ENOEXEC,
				  "a zImage (loaded low): only bzImages are supported");
	return 0;
}

/* The protected-mode kernel: after the setup sectors, as long as syssize says. */
static int check_kernel(const struct linux_boot *boot, uint64_t mem_size, struct bz_layout *l,
			char *err, size_t errlen)
{
	unsigned int sects = l->hdr.setup_sects ? l->hdr.setup_sects : 4;
	uint64_t need;

	l->kernel_off = (sects + 1) * 512ull;
	if (l->kernel_off >= boot->kernel_len)
		return load_error(err, errlen, ENOEXEC,
				  "truncated bzImage: %zu bytes, setup alone is %llu",
				  boot->kernel_len, (unsigned long long)l->kernel_off);
	l->kernel_len = boot->kernel_len - l->kernel_off;
	if ((uint64_t)l->hdr.syssize * 16 > l->kernel_len)
		return load_error(
			err, errlen, ENOEXEC,
			"truncated bzImage: the kernel is %llu bytes, its header says %llu",
			(unsigned long long)l->kernel_len, (unsigned long long)l->hdr.syssize * 16);
	/* Where it decompresses to, and how much room that takes. */
	need = l->hdr.pref_address > KERNEL_GPA ? l->hdr.pref_address : KERNEL_GPA;
	need += l->hdr.init_size > l->kernel_len ? l->hdr.init_size : l->kernel_len;
	if (need > mem_size)
		return load_error(
			err, errlen, EFBIG,
			"the kernel needs %llu MiB of guest memory (--mem), there are %llu",
			(unsigned long long)(need + (1 << 20) - 1) >> 20,
			(unsigned long long)mem_size >> 20);
	return 0;
}

/* The initrd as high as both guest memory and the kernel allow. */
static int place_initrd(const struct linux_boot *boot, uint64_t mem_size, struct bz_layout *l,
			char *err, size_t errlen)
{
	uint64_t top = mem_size, low = KERNEL_GPA + l->kernel_len;

	if (!boot->initrd)
		return 0;
	if (l->hdr.pref_address + l->hdr.init_size > low)
		low = l->hdr.pref_address + l->hdr.init_size;
	if ((uint64_t)l->hdr.initrd_addr_max + 1 < top)
		top = (uint64_t)l->hdr.initrd_addr_max + 1;
	if (boot->initrd_len > UINT32_MAX || boot->initrd_len > top ||
	    ((top - boot->initrd_len) & ~PAGE_MASK) < low)
		return load_error(err, errlen, EFBIG,
				  "the initrd (%zu bytes) does not fit between the kernel and the "
				  "end of guest memory (--mem)",
				  boot->initrd_len);
	l->initrd_gpa = (top - boot->initrd_len) & ~PAGE_MASK;
	return 0;
}

static int bz_layout(const struct linux_boot *boot, uint64_t mem_size, struct bz_layout *l,
		     char *err, size_t errlen)
{
	size_t cmdline_len = boot->cmdline ? strlen(boot->cmdline) : 0;
	int ret = read_header(boot, &l->hdr, err, errlen);

	if (!ret)
		ret = check_kernel(boot, mem_size, l, err, errlen);
	if (!ret && (cmdline_len > l->hdr.cmdline_size || cmdline_len > CMDLINE_MAX - 1))
		ret = load_error(err, errlen, E2BIG,
				 "the command line is %zu bytes, the kernel takes %u", cmdline_len,
				 l->hdr.cmdline_size < CMDLINE_MAX - 1 ? l->hdr.cmdline_size
								       : CMDLINE_MAX - 1);
	if (!ret)
		ret = place_initrd(boot, mem_size, l, err, errlen);
	return ret;
}

int bzimage_check(const struct linux_boot *boot, uint64_t mem_size, char *err, size_t errlen)
{
	struct bz_layout l;

	return bz_layout(boot, mem_size, &l, err, errlen);
}

/* RAM below the EBDA and above 1 MiB; the BIOS's areas between are not. */
static void fill_e820(struct boot_params *bp, uint64_t mem_size)
{
	const struct boot_e820_entry map[] = {
		{ 0, LOW_RAM_END, E820_RAM },
		{ LOW_RAM_END, 0xa0000 - LOW_RAM_END, E820_RESERVED },
		{ BIOS_AREA, KERNEL_GPA - BIOS_AREA, E820_RESERVED },
		{ KERNEL_GPA, mem_size - KERNEL_GPA, E820_RAM },
	};

	memcpy(bp->e820_table, map, sizeof(map));
	bp->e820_entries = sizeof(map) / sizeof(map[0]);
}

static void fill_boot_params(struct boot_params *bp, const struct bz_layout *l,
			     const struct linux_boot *boot, uint64_t mem_size)
{
	memset(bp, 0, sizeof(*bp));
	bp->hdr = l->hdr;
	bp->hdr.type_of_loader = 0xff; /* "undefined": without one, no initrd */
	bp->hdr.vid_mode = 0xffff; /* "normal" */
	bp->hdr.loadflags &= ~KEEP_SEGMENTS;
	bp->hdr.cmd_line_ptr = CMDLINE_GPA;
	bp->hdr.ramdisk_image = boot->initrd ? l->initrd_gpa : 0;
	bp->hdr.ramdisk_size = boot->initrd ? boot->initrd_len : 0;
	bp->acpi_rsdp_addr = boot->rsdp_gpa;
	fill_e820(bp, mem_size);
}

int __vm_load_bzimage(struct vm *vm, const struct linux_boot *boot)
{
	uint64_t mem_size =
		vm->nr_mem ? vm->mem[vm->nr_mem - 1].gpa + vm->mem[vm->nr_mem - 1].size : 0;
	const uint64_t gdt[4] = {
		[BOOT_CS / 8] = gdt_entry(0, 0xfffff, 0x9b, 0xc),
		[BOOT_DS / 8] = gdt_entry(0, 0xfffff, 0x93, 0xc),
	};
	const char *cmdline = boot->cmdline ? boot->cmdline : "";
	struct boot_params *bp;
	struct bz_layout l;
	int ret = bz_layout(boot, mem_size, &l, vm->error, sizeof(vm->error));
	void *kernel, *initrd = NULL, *gdt_hva, *cmd;

	if (ret)
		return ret;
	bp = vm_gpa_to_hva(vm, BOOT_PARAMS_GPA, sizeof(*bp));
	kernel = vm_gpa_to_hva(vm, KERNEL_GPA, l.kernel_len);
	cmd = vm_gpa_to_hva(vm, CMDLINE_GPA, strlen(cmdline) + 1);
	gdt_hva = vm_gpa_to_hva(vm, GDT_GPA, sizeof(gdt));
	if (boot->initrd)
		initrd = vm_gpa_to_hva(vm, l.initrd_gpa, boot->initrd_len);
	if (!bp || !kernel || !cmd || !gdt_hva || (boot->initrd && !initrd)) {
		snprintf(vm->error, sizeof(vm->error), "guest memory has holes where Linux loads");
		return -EFBIG;
	}
	fill_boot_params(bp, &l, boot, mem_size);
	memcpy(kernel, (const uint8_t *)boot->kernel + l.kernel_off, l.kernel_len);
	memcpy(cmd, cmdline, strlen(cmdline) + 1);
	memcpy(gdt_hva, gdt, sizeof(gdt));
	if (initrd)
		memcpy(initrd, boot->initrd, boot->initrd_len);
	return 0;
}

/*
 * The 32-bit boot protocol's entry: flat 4 GiB segments at __BOOT_CS and
 * __BOOT_DS, paging and interrupts off, ESI = boot_params.
 */
void vcpu_set_linux_entry(struct vcpu *vcpu)
{
	struct kvm_regs regs = { .rip = KERNEL_GPA, .rsi = BOOT_PARAMS_GPA, .rflags = 0x2 };
	struct kvm_sregs sregs;

	vcpu_sregs_get(vcpu, &sregs);
	sregs.cs = flat_segment(BOOT_CS, 0xb);
	sregs.ds = flat_segment(BOOT_DS, 0x3);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	sregs.gdt.base = GDT_GPA;
	sregs.gdt.limit = 4 * 8 - 1;
	sregs.cr0 = (sregs.cr0 | 0x11) & ~0x80000000ull; /* PE and ET; no PG */
	vcpu_sregs_set(vcpu, &sregs);
	vcpu_regs_set(vcpu, &regs);
}
