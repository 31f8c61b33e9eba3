// SPDX-License-Identifier: MIT
/*
 * fuzz_bzimage: libFuzzer target for the bzImage loader (lib/boot/bzimage.c).
 * The input is a kernel file; its last byte picks the command line's
 * length and whether an initrd comes along. It goes to bzimage_check()
 * and __vm_load_bzimage() on a fake VM whose memory is plain heap memory
 * (no /dev/kvm). ASan sees any byte the loader touches outside guest
 * memory or the file; the checks abort when the loader accepts what it
 * must refuse, or disagrees with the check made without a VM.
 */
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/kvm.h"

#define MEM_SIZE (64u << 20)

static struct vm *fake_vm(void)
{
	static struct vm vm;

	if (!vm.nr_mem) {
		vm.nr_mem = 1;
		vm.mem[0] = (struct vm_mem){ .gpa = 0, .size = MEM_SIZE, .host = calloc(1, MEM_SIZE) };
	}
	return &vm;
}

#define check(ok)                                                                        \
	do {                                                                             \
		if (!(ok)) {                                                             \
			fprintf(stderr, "fuzz_bzimage: check failed: %s (line %d)\n", #ok, \
				__LINE__);                                               \
			abort();                                                         \
		}                                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t initrd[4096] = { 0x42 };
	uint8_t knob = size ? data[size - 1] : 0;
	char cmdline[300];
	uint8_t *image = malloc(size ? size : 1);
	struct linux_boot boot = {
		.kernel = image,
		.kernel_len = size,
		.cmdline = cmdline,
		.initrd = knob & 1 ? initrd : NULL,
		.initrd_len = knob & 1 ? sizeof(initrd) : 0,
	};
	struct vm *vm = fake_vm();
	char err[200];
	int checked, loaded;

	memcpy(image, data, size);
	memset(cmdline, 'x', knob);
	cmdline[knob] = '\0';
	checked = bzimage_check(&boot, MEM_SIZE, err, sizeof(err));
	loaded = __vm_load_bzimage(vm, &boot);
	check(checked == loaded);
	if (!loaded) {
		check(image_is_bzimage(image, size));
		check(strlen((char *)vm_gpa_to_hva(vm, 0x20000, 1)) == strlen(cmdline));
	} else {
		check(err[0] && vm->error[0]);
	}
	free(image);
	return 0;
}
