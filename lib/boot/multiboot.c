// SPDX-License-Identifier: MIT
/*
 * The multiboot (v1) information a loader hands a protected-mode kernel
 * in EBX: memory sizes and a memory map, the command line, and at most
 * one module. All of it goes below 1 MiB, where the kernel's own heap
 * will not grow over it: the info at 0x1000, the command line after it,
 * the module from 0x2000 to 0x8000 (0x8000 and up is where kvm-unit-
 * tests puts its AP trampoline and realmode.flat). Each piece is checked
 * against guest memory and against the kernel's ELF segments.
 */
#include <errno.h>
#include <string.h>

#include "mini-kvm/kvm.h"

#define MB_INFO_GPA 0x1000u
#define MB_CMDLINE_GPA 0x1100u
#define MB_MODULE_GPA 0x2000u
#define MB_AREA_END 0x8000u
#define MB_FLAG_MEMORY (1u << 0)
#define MB_FLAG_CMDLINE (1u << 2)
#define MB_FLAG_MODS (1u << 3)
#define MB_FLAG_MMAP (1u << 6)
#define LOW_MEM_END 0x9fc00u /* 639 KiB: the EBDA and the BIOS above */
#define HIGH_MEM 0x100000u

struct mb_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline, mods_count, mods_addr;
	uint32_t syms[4], mmap_length, mmap_addr;
	uint32_t unused[9]; /* drives, config table, boot loader name, APM, VBE */
};

struct mb_module {
	uint32_t start, end, string, reserved;
};

struct __attribute__((packed)) mb_mmap_entry {
	uint32_t size; /* of the rest of the entry: 20 */
	uint64_t addr, len;
	uint32_t type; /* 1: RAM */
};

struct mb_area {
	struct mb_info info;
	struct mb_module module;
	struct mb_mmap_entry mmap[2];
};
_Static_assert(MB_INFO_GPA + sizeof(struct mb_area) <= MB_CMDLINE_GPA, "info overlaps cmdline");

/* Copy [data, data + len) to gpa, if it is guest memory the kernel does not use. */
static int put(struct vm *vm, const struct multiboot_args *a, uint32_t gpa, const void *data,
	       size_t len, const char *what)
{
	void *dst = vm_gpa_to_hva(vm, gpa, len);

	if (!dst || (a->elf && elf_overlaps(a->elf, gpa, len))) {
		snprintf(vm->error, sizeof(vm->error),
			 "multiboot %s at 0x%x (%zu bytes) lies outside guest memory or over the "
			 "kernel",
			 what, gpa, len);
		return -EFBIG;
	}
	memcpy(dst, data, len);
	return 0;
}

static int too_big(struct vm *vm, const char *what, size_t len, size_t max)
{
	snprintf(vm->error, sizeof(vm->error), "%s is %zu bytes; a multiboot %s holds at most %zu",
		 what, len, what, max);
	return -E2BIG;
}

/* Writes the info; *info_gpa is its address, for EBX. Returns 0 or -errno. */
int __vm_write_multiboot(struct vm *vm, const struct multiboot_args *a, uint32_t *info_gpa)
{
	struct mb_area area = { 0 };
	size_t cmdline_len = a->cmdline ? strlen(a->cmdline) + 1 : 0;
	uint64_t upper = a->mem_size > HIGH_MEM ? a->mem_size - HIGH_MEM : 0;
	int ret = 0;

	if (cmdline_len > MB_MODULE_GPA - MB_CMDLINE_GPA)
		return too_big(vm, "command line", cmdline_len, MB_MODULE_GPA - MB_CMDLINE_GPA);
	if (a->module_len > MB_AREA_END - MB_MODULE_GPA)
		return too_big(vm, "module", a->module_len, MB_AREA_END - MB_MODULE_GPA);
	area.info.flags = MB_FLAG_MEMORY | MB_FLAG_MMAP;
	area.info.mem_lower = (a->mem_size < LOW_MEM_END ? a->mem_size : LOW_MEM_END) / 1024;
	area.info.mem_upper = upper / 1024;
	area.mmap[0] = (struct mb_mmap_entry){ 20, 0, area.info.mem_lower * 1024ull, 1 };
	area.mmap[1] = (struct mb_mmap_entry){ 20, HIGH_MEM, upper, 1 };
	area.info.mmap_addr = MB_INFO_GPA + offsetof(struct mb_area, mmap);
	area.info.mmap_length = upper ? sizeof(area.mmap) : sizeof(area.mmap[0]);
	if (cmdline_len) {
		area.info.flags |= MB_FLAG_CMDLINE;
		area.info.cmdline = MB_CMDLINE_GPA;
		ret = put(vm, a, MB_CMDLINE_GPA, a->cmdline, cmdline_len, "command line");
	}
	if (!ret && a->module) {
		area.info.flags |= MB_FLAG_MODS;
		area.info.mods_count = 1;
		area.info.mods_addr = MB_INFO_GPA + offsetof(struct mb_area, module);
		area.module.start = MB_MODULE_GPA;
		area.module.end = MB_MODULE_GPA + a->module_len;
		ret = put(vm, a, MB_MODULE_GPA, a->module, a->module_len, "module");
	}
	if (!ret)
		ret = put(vm, a, MB_INFO_GPA, &area, sizeof(area), "information");
	*info_gpa = MB_INFO_GPA;
	return ret;
}
