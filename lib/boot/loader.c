// SPDX-License-Identifier: MIT
/*
 * Guest images: a flat binary copied to an address, or an ELF32 (i386)
 * executable whose PT_LOAD segments go to their physical addresses, as a
 * multiboot loader would place them. Every offset and size in the file is
 * distrusted: each check is written so that no sum can wrap.
 * flat_check() and elf_check() need no VM, so that the command can refuse
 * a bad image before it opens /dev/kvm; the loaders, which may be called
 * alone, make the same checks against the VM's own memory slots.
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>

#include "mini-kvm/kvm.h"

#define ELF_MAX_PHDRS 1024u
#define PAGE_SIZE 4096u

int load_error(char *err, size_t errlen, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -code;
}

static uint64_t vm_mem_end(struct vm *vm)
{
	return vm->nr_mem ? vm->mem[vm->nr_mem - 1].gpa + vm->mem[vm->nr_mem - 1].size : 0;
}

/*
 * Is [gpa, gpa + len) guest memory? The checks below get the loaders' vm,
 * whose slots may leave holes, with mem_size its end (for the messages),
 * or no vm (flat_check(), elf_check()) and the mem_size bytes at 0.
 */
static bool in_guest_mem(struct vm *vm, uint64_t mem_size, uint64_t gpa, uint64_t len)
{
	if (vm)
		return vm_gpa_to_hva(vm, gpa, len);
	return gpa < mem_size && len <= mem_size - gpa;
}

static int check_flat(struct vm *vm, uint64_t mem_size, uint64_t gpa, size_t len, char *err,
		      size_t errlen)
{
	if (!len)
		return load_error(err, errlen, ENOEXEC, "image is empty");
	if (!in_guest_mem(vm, mem_size, gpa, len))
		return load_error(
			err, errlen, EFBIG,
			"image is %zu bytes, larger than the guest memory at 0x%llx (%llu bytes)",
			len, (unsigned long long)gpa,
			(unsigned long long)(mem_size > gpa ? mem_size - gpa : 0));
	return 0;
}

int flat_check(uint64_t gpa, size_t len, uint64_t mem_size, char *err, size_t errlen)
{
	return check_flat(NULL, mem_size, gpa, len, err, errlen);
}

int __vm_load_flat(struct vm *vm, uint64_t gpa, const void *image, size_t len)
{
	int ret = check_flat(vm, vm_mem_end(vm), gpa, len, vm->error, sizeof(vm->error));

	if (ret)
		return ret;
	memcpy(vm_gpa_to_hva(vm, gpa, len), image, len);
	return 0;
}

void vm_load_flat(struct vm *vm, uint64_t gpa, const void *image, size_t len)
{
	if (__vm_load_flat(vm, gpa, image, len))
		kvm_die("%s", vm->error);
}

bool image_is_elf(const void *image, size_t len)
{
	return len >= SELFMAG && !memcmp(image, ELFMAG, SELFMAG);
}

static int check_elf_header(const Elf32_Ehdr *eh, size_t len, char *err, size_t errlen)
{
	if (len < sizeof(*eh) || !image_is_elf(eh, len))
		return load_error(err, errlen, ENOEXEC,
				  "not an ELF file (bad magic or truncated header)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS32)
		return load_error(err, errlen, ENOEXEC,
				  "ELF class %u: only 32-bit (ELFCLASS32) images are supported",
				  eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_386)
		return load_error(err, errlen, ENOEXEC,
				  "ELF machine %u: only little-endian i386 (EM_386) is supported",
				  eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return load_error(err, errlen, ENOEXEC,
				  "ELF type %u: only executables (ET_EXEC) can be loaded",
				  eh->e_type);
	if (eh->e_phentsize != sizeof(Elf32_Phdr) || !eh->e_phnum)
		return load_error(err, errlen, ENOEXEC, "ELF has no usable program headers");
	/* The overlap check is quadratic: 65535 headers would take seconds. */
	if (eh->e_phnum > ELF_MAX_PHDRS)
		return load_error(err, errlen, ENOEXEC,
				  "ELF has %u program headers, more than the %u supported",
				  eh->e_phnum, ELF_MAX_PHDRS);
	if (eh->e_phoff > len || (size_t)eh->e_phnum * sizeof(Elf32_Phdr) > len - eh->e_phoff)
		return load_error(err, errlen, ENOEXEC, "ELF program headers lie outside the file");
	return 0;
}

/*
 * Program header i, copied out: nothing says the file keeps the headers
 * aligned, and an unaligned Elf32_Phdr cannot be read in place.
 */
static Elf32_Phdr elf_phdr(const void *image, const Elf32_Ehdr *eh, int i)
{
	Elf32_Phdr ph;

	memcpy(&ph, (const uint8_t *)image + eh->e_phoff + i * sizeof(ph), sizeof(ph));
	return ph;
}

static int check_segment(struct vm *vm, uint64_t mem_size, const Elf32_Phdr *ph, size_t len,
			 char *err, size_t errlen)
{
	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return load_error(err, errlen, ENOEXEC,
				  "ELF segment at 0x%x: file data lies outside the file",
				  ph->p_paddr);
	if (ph->p_filesz > ph->p_memsz)
		return load_error(err, errlen, ENOEXEC,
				  "ELF segment at 0x%x: file size exceeds memory size",
				  ph->p_paddr);
	if (!in_guest_mem(vm, mem_size, ph->p_paddr, ph->p_memsz))
		return load_error(err, errlen, EFBIG,
				  "ELF segment 0x%x-0x%llx lies outside guest memory (%llu bytes)",
				  ph->p_paddr, (unsigned long long)ph->p_paddr + ph->p_memsz,
				  (unsigned long long)mem_size);
	return 0;
}

static bool segments_overlap(const Elf32_Phdr *a, const Elf32_Phdr *b)
{
	return a->p_memsz && b->p_memsz &&
	       (uint64_t)a->p_paddr < (uint64_t)b->p_paddr + b->p_memsz &&
	       (uint64_t)b->p_paddr < (uint64_t)a->p_paddr + a->p_memsz;
}

/* Every PT_LOAD segment fits and overlaps no other; e_entry lies in one. */
static int check_elf(struct vm *vm, uint64_t mem_size, const void *image, size_t len, char *err,
		     size_t errlen)
{
	Elf32_Ehdr eh = { 0 };
	bool entry_loaded = false;
	int ret;

	memcpy(&eh, image, len < sizeof(eh) ? len : sizeof(eh));
	ret = check_elf_header(&eh, len, err, errlen);

	if (ret)
		return ret;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph = elf_phdr(image, &eh, i);

		if (ph.p_type != PT_LOAD)
			continue;
		ret = check_segment(vm, mem_size, &ph, len, err, errlen);
		if (ret)
			return ret;
		for (int j = 0; j < i; j++) {
			Elf32_Phdr prev = elf_phdr(image, &eh, j);

			if (prev.p_type == PT_LOAD && segments_overlap(&ph, &prev))
				return load_error(err, errlen, ENOEXEC,
						  "ELF segments at 0x%x and 0x%x overlap",
						  prev.p_paddr, ph.p_paddr);
		}
		entry_loaded |= eh.e_entry >= ph.p_paddr && eh.e_entry - ph.p_paddr < ph.p_memsz;
	}
	if (!entry_loaded)
		return load_error(err, errlen, ENOEXEC,
				  "ELF entry point 0x%x lies outside every loaded segment",
				  eh.e_entry);
	return 0;
}

int elf_check(const void *image, size_t len, uint64_t mem_size, char *err, size_t errlen)
{
	return check_elf(NULL, mem_size, image, len, err, errlen);
}

/*
 * Zero guest memory without touching what is zero already: whole pages
 * are given back (MADV_DONTNEED on private anonymous memory reads as zero
 * again), so a 1 GiB bss costs no host RAM; only the edges are written.
 */
static void zero_guest(uint8_t *dst, uint64_t len)
{
	uintptr_t start = ((uintptr_t)dst + PAGE_SIZE - 1) & ~(uintptr_t)(PAGE_SIZE - 1);
	uintptr_t end = ((uintptr_t)dst + len) & ~(uintptr_t)(PAGE_SIZE - 1);

	if (end <= start || madvise((void *)start, end - start, MADV_DONTNEED)) {
		memset(dst, 0, len);
		return;
	}
	memset(dst, 0, start - (uintptr_t)dst);
	memset((void *)end, 0, (uintptr_t)dst + len - end);
}

/* Load every PT_LOAD segment; *entry is e_entry. */
int __vm_load_elf(struct vm *vm, const void *image, size_t len, uint32_t *entry)
{
	Elf32_Ehdr eh;
	int ret = check_elf(vm, vm_mem_end(vm), image, len, vm->error, sizeof(vm->error));

	if (ret)
		return ret;
	memcpy(&eh, image, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph = elf_phdr(image, &eh, i);
		uint8_t *dst;

		if (ph.p_type != PT_LOAD)
			continue;
		dst = vm_gpa_to_hva(vm, ph.p_paddr, ph.p_memsz);
		memcpy(dst, (const uint8_t *)image + ph.p_offset, ph.p_filesz);
		zero_guest(dst + ph.p_filesz, ph.p_memsz - ph.p_filesz);
	}
	*entry = eh.e_entry;
	return 0;
}

/* Would [gpa, gpa + len) overwrite a segment of this (checked) ELF image? */
bool elf_overlaps(const void *image, uint64_t gpa, uint64_t len)
{
	Elf32_Ehdr eh;
	Elf32_Phdr range = { .p_type = PT_LOAD, .p_paddr = gpa, .p_memsz = len };

	memcpy(&eh, image, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph = elf_phdr(image, &eh, i);

		if (ph.p_type == PT_LOAD && segments_overlap(&ph, &range))
			return true;
	}
	return false;
}
