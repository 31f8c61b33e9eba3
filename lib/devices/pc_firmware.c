// SPDX-License-Identifier: MIT
/*
 * What a PC's BIOS leaves behind for a guest that boots without one: the
 * PIC pair at vectors 0x08 and 0x70 with the timer and cascade unmasked,
 * the PIT ticking at 18.2 Hz, and a real-mode IVT whose every vector
 * returns at once (hardware IRQs acknowledge the PIC first). kvm-unit-
 * tests' realmode, for one, waits in `sti; hlt` for that timer. Ticks the
 * guest missed are dropped, not made up later (KVM_REINJECT_CONTROL), as
 * QEMU's kvm-pit.lost_tick_policy=discard, which kvm-unit-tests asks for:
 * re-injection would keep AVIC off. Needs the in-kernel irqchip; the PIT
 * is programmed where the VM has one.
 */
#include <errno.h>
#include <string.h>

#include "mini-kvm/device.h"

#define BIOS_SEGMENT 0xf000u
#define STUB_IRET 0xff53u /* where real BIOSes keep their dummy iret */
#define STUB_MASTER_EOI (STUB_IRET + 1)
#define STUB_SLAVE_EOI (STUB_MASTER_EOI + 7)
#define PIC_MASTER_BASE 0x08
#define PIC_SLAVE_BASE 0x70

static const uint8_t bios_stubs[] = {
	0xcf, /* iret */
	0x50, 0xb0, 0x20, 0xe6, 0x20, 0x58, 0xcf, /* push ax; EOI to 0x20; pop ax; iret */
	0x50, 0xb0, 0x20, 0xe6, 0xa0, 0xe6, 0x20, 0x58, 0xcf, /* the same, to 0xa0 too */
};

/* The IVT at 0 and its stubs at F000:FF53, where the guest has that memory. */
static void write_ivt(struct vm *vm)
{
	uint8_t *stubs = vm_gpa_to_hva(vm, BIOS_SEGMENT * 16 + STUB_IRET, sizeof(bios_stubs));
	uint32_t *ivt = vm_gpa_to_hva(vm, 0, 256 * 4);

	if (!stubs || !ivt)
		return;
	memcpy(stubs, bios_stubs, sizeof(bios_stubs));
	for (int v = 0; v < 256; v++) {
		uint16_t ip = STUB_IRET;

		if (v >= PIC_MASTER_BASE && v < PIC_MASTER_BASE + 8)
			ip = STUB_MASTER_EOI;
		else if (v >= PIC_SLAVE_BASE && v < PIC_SLAVE_BASE + 8)
			ip = STUB_SLAVE_EOI;
		ivt[v] = BIOS_SEGMENT << 16 | ip;
	}
}

static int program_pic(struct vm *vm, int chip_id, uint8_t base, uint8_t mask)
{
	struct kvm_irqchip chip = { .chip_id = chip_id };
	int ret = __vm_ioctl(vm, KVM_GET_IRQCHIP, &chip);

	if (ret < 0)
		return ret;
	chip.chip.pic.irq_base = base;
	chip.chip.pic.imr = mask;
	chip.chip.pic.init4 = 1;
	chip.chip.pic.init_state = 0;
	ret = __vm_ioctl(vm, KVM_SET_IRQCHIP, &chip);
	return ret < 0 ? ret : 0;
}

/* Channel 0 in mode 2 with the largest count: IRQ0 at 1193182 / 65536 Hz. */
static int program_pit(struct vm *vm)
{
	struct kvm_reinject_control no_reinject = { .pit_reinject = 0 };
	struct kvm_pit_state2 pit;
	int ret = __vm_ioctl(vm, KVM_REINJECT_CONTROL, &no_reinject);

	if (!ret)
		ret = __vm_ioctl(vm, KVM_GET_PIT2, &pit);
	if (ret < 0)
		return ret;
	pit.channels[0].mode = 2;
	pit.channels[0].count = 0; /* 0 means 65536 */
	pit.channels[0].rw_mode = 3; /* low byte, then high byte */
	pit.channels[0].gate = 1;
	ret = __vm_ioctl(vm, KVM_SET_PIT2, &pit);
	return ret < 0 ? ret : 0;
}

int pc_firmware_setup(struct vm *vm)
{
	int ret;

	if (!vm->has_irqchip) {
		snprintf(vm->error, sizeof(vm->error), "the PC firmware set-up needs the irqchip");
		return -EINVAL;
	}
	write_ivt(vm);
	ret = program_pic(vm, KVM_IRQCHIP_PIC_MASTER, PIC_MASTER_BASE, 0xfa);
	if (!ret)
		ret = program_pic(vm, KVM_IRQCHIP_PIC_SLAVE, PIC_SLAVE_BASE, 0xff);
	if (!ret && vm->has_pit)
		ret = program_pit(vm);
	return ret;
}
