// SPDX-License-Identifier: MIT
/*
 * Guest images: a flat binary copied to an address, or an ELF32 (i386)
 * executable whose PT_LOAD segments go to their physical addresses, as a
 * multiboot loader would place them. Every offset and size in the file is
 * distrusted: each check is written so that no sum can wrap.
 */
#include <elf.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/kvm.h"

#define ELF_MAX_PHDRS 1024u

static int load_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static uint64_t vm_mem_end(struct vm *vm)
{
	return vm->nr_mem ? vm->mem[vm->nr_mem - 1].gpa + vm->mem[vm->nr_mem - 1].size : 0;
}

int vm_load_flat(struct vm *vm, uint64_t gpa, const void *image, size_t len, char *err,
		 size_t errlen)
{
	void *dst;

	if (!len)
		return load_error(err, errlen, "image is empty");
	dst = vm_gpa_to_hva(vm, gpa, len);
	if (!dst)
		return load_error(
			err, errlen,
			"image is %zu bytes, larger than the guest memory at 0x%llx (%llu bytes)",
			len, (unsigned long long)gpa,
			(unsigned long long)(vm_mem_end(vm) > gpa ? vm_mem_end(vm) - gpa : 0));
	memcpy(dst, image, len);
	return 0;
}

bool image_is_elf(const void *image, size_t len)
{
	return len >= SELFMAG && !memcmp(image, ELFMAG, SELFMAG);
}

static int check_elf_header(const Elf32_Ehdr *eh, size_t len, char *err, size_t errlen)
{
	if (len < sizeof(*eh) || !image_is_elf(eh, len))
		return load_error(err, errlen, "not an ELF file (bad magic or truncated header)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS32)
		return load_error(err, errlen,
				  "ELF class %u: only 32-bit (ELFCLASS32) images are supported",
				  eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB || eh->e_machine != EM_386)
		return load_error(err, errlen,
				  "ELF machine %u: only little-endian i386 (EM_386) is supported",
				  eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return load_error(err, errlen,
				  "ELF type %u: only executables (ET_EXEC) can be loaded",
				  eh->e_type);
	if (eh->e_phentsize != sizeof(Elf32_Phdr) || !eh->e_phnum)
		return load_error(err, errlen, "ELF has no usable program headers");
	/* The overlap check is quadratic: 65535 headers would take seconds. */
	if (eh->e_phnum > ELF_MAX_PHDRS)
		return load_error(err, errlen,
				  "ELF has %u program headers, more than the %u supported",
				  eh->e_phnum, ELF_MAX_PHDRS);
	if (eh->e_phoff > len || (size_t)eh->e_phnum * sizeof(Elf32_Phdr) > len - eh->e_phoff)
		return load_error(err, errlen, "ELF program headers lie outside the file");
	return 0;
}

static int check_segment(struct vm *vm, const Elf32_Phdr *ph, size_t len, char *err, size_t errlen)
{
	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return load_error(err, errlen,
				  "ELF segment at 0x%x: file data lies outside the file",
				  ph->p_paddr);
	if (ph->p_filesz > ph->p_memsz)
		return load_error(err, errlen, "ELF segment at 0x%x: file size exceeds memory size",
				  ph->p_paddr);
	if (!vm_gpa_to_hva(vm, ph->p_paddr, ph->p_memsz))
		return load_error(err, errlen,
				  "ELF segment 0x%x-0x%llx lies outside guest memory (%llu bytes)",
				  ph->p_paddr, (unsigned long long)ph->p_paddr + ph->p_memsz,
				  (unsigned long long)vm_mem_end(vm));
	return 0;
}

static bool segments_overlap(const Elf32_Phdr *a, const Elf32_Phdr *b)
{
	return a->p_memsz && b->p_memsz &&
	       (uint64_t)a->p_paddr < (uint64_t)b->p_paddr + b->p_memsz &&
	       (uint64_t)b->p_paddr < (uint64_t)a->p_paddr + a->p_memsz;
}

/*
 * Load every PT_LOAD segment; *entry is e_entry, checked to lie in one.
 * The headers are copied out first: nothing says the file keeps them
 * aligned, and an unaligned Elf32_Phdr cannot be read in place.
 */
int vm_load_elf(struct vm *vm, const void *image, size_t len, uint32_t *entry, char *err,
		size_t errlen)
{
	Elf32_Ehdr ehdr = { 0 }, *eh = &ehdr;
	Elf32_Phdr *ph;
	bool entry_loaded = false;
	int ret = -1;

	memcpy(eh, image, len < sizeof(*eh) ? len : sizeof(*eh));
	if (check_elf_header(eh, len, err, errlen))
		return -1;
	ph = malloc(eh->e_phnum * sizeof(*ph));
	if (!ph)
		return load_error(err, errlen, "out of memory for %u ELF program headers",
				  eh->e_phnum);
	memcpy(ph, (const uint8_t *)image + eh->e_phoff, eh->e_phnum * sizeof(*ph));
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if (check_segment(vm, &ph[i], len, err, errlen))
			goto out;
		for (int j = 0; j < i; j++)
			if (ph[j].p_type == PT_LOAD && segments_overlap(&ph[i], &ph[j])) {
				load_error(err, errlen, "ELF segments at 0x%x and 0x%x overlap",
					   ph[j].p_paddr, ph[i].p_paddr);
				goto out;
			}
		entry_loaded |=
			eh->e_entry >= ph[i].p_paddr && eh->e_entry - ph[i].p_paddr < ph[i].p_memsz;
	}
	if (!entry_loaded) {
		load_error(err, errlen, "ELF entry point 0x%x lies outside every loaded segment",
			   eh->e_entry);
		goto out;
	}
	for (int i = 0; i < eh->e_phnum; i++) {
		uint8_t *dst;

		if (ph[i].p_type != PT_LOAD)
			continue;
		dst = vm_gpa_to_hva(vm, ph[i].p_paddr, ph[i].p_memsz);
		memcpy(dst, (const uint8_t *)image + ph[i].p_offset, ph[i].p_filesz);
		memset(dst + ph[i].p_filesz, 0, ph[i].p_memsz - ph[i].p_filesz);
	}
	*entry = eh->e_entry;
	ret = 0;
out:
	free(ph);
	return ret;
}
