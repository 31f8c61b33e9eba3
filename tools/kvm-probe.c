// SPDX-License-Identifier: MIT
/*
 * kvm-probe: is there a KVM here that really runs our guests? It asks
 * kvm_can_run() (lib/probe.c), which runs a real-mode hlt and a
 * protected-mode int/iret, and says which KVM it was. The test runner
 * uses it to choose between this machine's KVM and the helper VM.
 *
 * Exit 0: usable. 3: runs real mode only (kvm_pvm's instruction emulator,
 * for one, cannot iret in protected mode). 4: no usable KVM.
 */
#include <stdio.h>

#include "mini-kvm/kvm.h"

int main(void)
{
	const char *why;

	if (!kvm_can_run(KVM_MODE_REAL, &why)) {
		printf("no usable KVM: %s\n", why);
		return 4;
	}
	if (!kvm_can_run(KVM_MODE_PROTECTED, &why)) {
		printf("%s\n", why);
		return 3;
	}
	printf("%s\n", why);
	return 0;
}
