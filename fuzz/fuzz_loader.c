// SPDX-License-Identifier: MIT
/*
 * fuzz_loader: libFuzzer target for the guest image loaders. The input is
 * a guest image; it goes to vm_load_elf() and, at an address taken from
 * its first bytes, to vm_load_flat(), on a fake VM whose two memory slots
 * are plain heap memory (no /dev/kvm, no ioctl), as in lib_unit.c. ASan
 * sees any byte the loader touches outside the slots or the image; the
 * checks below abort when a loader says yes to something it must refuse,
 * or when elf_check() and flat_check(), which check without a VM, do not
 * agree with it.
 */
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/kvm.h"

#define SLOT_SIZE 0x10000
static const uint64_t slot_gpa[2] = { 0, 0x100000 };
/* Without a VM: [0, SLOT_SIZE) lies inside the fake VM's memory, [0, MEM_END) around it. */
#define MEM_END (0x100000 + SLOT_SIZE)

static struct vm *fake_vm(void)
{
	static struct vm vm;

	if (!vm.nr_mem) {
		vm.nr_mem = 2;
		for (int i = 0; i < 2; i++)
			vm.mem[i] = (struct vm_mem){ .gpa = slot_gpa[i], .size = SLOT_SIZE,
						     .host = malloc(SLOT_SIZE) };
	}
	return &vm;
}

/* A broken promise of the library: libFuzzer records the input. */
#define check(ok) do {                                                  \
	if (!(ok)) {                                                    \
		fprintf(stderr, "fuzz_loader: check failed: %s (line %d)\n", \
			#ok, __LINE__);                                 \
		abort();                                                \
	}                                                               \
} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm *vm = fake_vm();
	const char *err = vm->error;
	char check_err[200];
	uint32_t entry = 0xdeadbeef;
	uint64_t gpa = 0;

	/* A copy of exactly size bytes: ASan catches reads past its end. */
	uint8_t *image = malloc(size ? size : 1);

	memcpy(image, data, size);
	vm->error[0] = '\0';
	if (__vm_load_elf(vm, image, size, &entry) == 0) {
		/* Loaded: then it was an ELF, and its entry is in guest memory. */
		check(image_is_elf(image, size));
		check(vm_gpa_to_hva(vm, entry, 1) != NULL);
		check(elf_check(image, size, MEM_END, check_err, sizeof(check_err)) == 0);
	} else {
		check(err[0] != '\0' && strlen(err) < sizeof(vm->error));
		check(entry == 0xdeadbeef);
		check(elf_check(image, size, SLOT_SIZE, check_err, sizeof(check_err)) != 0);
	}

	if (size >= 4)
		memcpy(&gpa, image, 4);
	gpa = (gpa & 1) ? gpa : gpa % 0x120000; /* odd: anywhere; even: near the slots */
	vm->error[0] = '\0';
	if (__vm_load_flat(vm, gpa, image, size) == 0) {
		uint8_t *dst = vm_gpa_to_hva(vm, gpa, size);

		check(size && dst && !memcmp(dst, image, size));
		check(flat_check(gpa, size, MEM_END, check_err, sizeof(check_err)) == 0);
	} else {
		check(err[0] != '\0');
		check(flat_check(gpa, size, SLOT_SIZE, check_err, sizeof(check_err)) != 0);
	}
	free(image);
	return 0;
}
