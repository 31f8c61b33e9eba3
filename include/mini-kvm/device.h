/* SPDX-License-Identifier: MIT */
/*
 * The device bus. A device claims a range of ports or of guest-physical
 * addresses on its VM, once; the run loop hands each KVM_EXIT_IO and
 * KVM_EXIT_MMIO to the one device whose range holds it, or to the empty
 * bus (reads all-ones, writes vanish; fatal with vm->empty_bus_fatal).
 *
 * A device sees the vCPU that exits only through lib/access.c (registers,
 * guest memory, vcpu_end()) and the VM's console, so devices never call
 * back into the run loop. Adding a device: one file in lib/devices/, one
 * *_add() call where the VM is made.
 */
#ifndef MINI_KVM_DEVICE_H
#define MINI_KVM_DEVICE_H

#include "kvm.h"

#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

struct device {
	const char *name;
	uint64_t base, len;
	/*
	 * One access of len bytes at base + offset; data is what the guest
	 * wrote, or where its read goes. Returns VCPU_CONTINUE, or an end
	 * made with vcpu_end(). Called on the exiting vCPU's thread: a
	 * device shared by several vCPUs locks its own state.
	 */
	int (*access)(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
		      uint32_t len, bool write);
	void (*release)(struct device *dev); /* frees the device (vm_destroy()) */
};

/*
 * The ACPI PM1a registers that lib/boot/acpi.c's FADT names, the sleep
 * types of its DSDT (S3 as QEMU's, which kvm-unit-tests assumes), and its
 * FACS, whose waking vector an S3 resume jumps to.
 */
#define ACPI_PM1A_EVT_PORT 0x600
#define ACPI_PM1A_CNT_PORT 0x604
#define ACPI_S3_SLP_TYP 1
#define ACPI_S5_SLP_TYP 5
#define ACPI_AREA_GPA 0xe0000u /* where lib/boot/acpi.c puts its tables */
#define ACPI_AREA_LEN 0x400u
#define ACPI_FACS_GPA (ACPI_AREA_GPA + 0x180)
#define ACPI_FACS_WAKING_VECTOR 12 /* offset of the 32-bit real-mode vector */

/* lib/bus.c */
int bus_add(struct bus *bus, struct device *dev);
struct device *bus_find(struct bus *bus, uint64_t addr);
int bus_access(struct vcpu *vcpu, struct bus *bus, uint64_t addr, void *data, uint32_t len,
	       bool write);
void bus_release(struct bus *bus);

/* lib/console.c: the VM's console, for devices. */
void console_init(struct console *console);
void console_write(struct vcpu *vcpu, const void *buf, size_t len);
int console_read(struct vcpu *vcpu, bool wait);
bool console_input_ready(struct vcpu *vcpu);

/* lib/devices/: every VM has the first two; the rest when asked for. */
int hypercall_device_add(struct vm *vm); /* HC_PORT: the ABI of abi.h */
int uart_add(struct vm *vm, uint16_t base); /* a 16550 at COM1_PORT */
size_t uart_receive(struct vm *vm, const void *buf, size_t len); /* input for COM1 */
int fw_cfg_add(struct vm *vm, uint16_t nr_cpus, uint64_t ram_size); /* QEMU's, at 0x510 */
int debug_exit_add(struct vm *vm); /* QEMU's isa-debug-exit at 0xf4 */
int pc_testdev_add(struct vm *vm); /* QEMU's pc-testdev (kvm-unit-tests) */
int acpi_pm_add(struct vm *vm); /* PM1a ports of lib/boot/acpi.c's FADT: S3, power-off */
int i8042_add(struct vm *vm); /* the keyboard controller's reset line: reboot */
int rtc_add(struct vm *vm); /* the CMOS clock: the host's time, read-only */
int pc_firmware_setup(struct vm *vm); /* PIC, PIT and IVT as a BIOS leaves them */

#endif /* MINI_KVM_DEVICE_H */
