// SPDX-License-Identifier: MIT
/*
 * ACPI's PM1a event and control registers, as the FADT of lib/boot/acpi.c
 * names them. Nothing here raises an event: the status register reads 0,
 * the enable register keeps what was written. A write of SLP_EN to the
 * control register with the S5 sleep type (the DSDT's _S5) is the guest
 * powering off: the VM ends with status 0, as a PC's power does. With the
 * S3 type it suspends to RAM, and we wake it at once, as a PC's firmware
 * does after the wake event: in real mode at the FACS's waking vector.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/device.h"

#define PM1_EN_OFFSET 2
#define PM1_CNT_OFFSET (ACPI_PM1A_CNT_PORT - ACPI_PM1A_EVT_PORT)
#define SLP_TYP(cnt) (((cnt) >> 10) & 7)
#define SLP_EN (1u << 13)
#define SCI_EN 1u /* reads as set: we are always in ACPI mode */

struct acpi_pm {
	struct device dev;
	uint16_t enable; /* PM1_EN reads back what was written: ACPI checks */
};

/*
 * The waking vector is a real-mode address: CS = vector >> 4, IP = vector &
 * 0xf (ACPI 6.5, 5.2.10). The CPU comes back as from INIT, RAM as it was.
 * With no vector a PC's firmware would boot afresh: the VM ends as on a
 * reset. Other vCPUs would have to wait for a SIPI again, which is not
 * done: S3 is for a guest with one vCPU.
 */
static int acpi_s3_resume(struct vcpu *vcpu)
{
	const void *facs_vector =
		vm_gpa_to_hva(vcpu->vm, ACPI_FACS_GPA + ACPI_FACS_WAKING_VECTOR, 4);
	uint32_t vector = 0;

	if (facs_vector)
		memcpy(&vector, facs_vector, sizeof(vector));
	if (vcpu->vm->nr_vcpus > 1)
		return vcpu_end(vcpu, VCPU_CRASHED, "ACPI S3 suspend with %d vCPUs (one only)",
				vcpu->vm->nr_vcpus);
	if (!vector || vector >= 0x100000) {
		vcpu->exit_status = 0;
		return vcpu_end(vcpu, VCPU_EXITED, "ACPI S3 suspend, no waking vector: a reset");
	}
	vcpu_reset_to_real_mode(vcpu, vector >> 4, vector & 0xf);
	return VCPU_CONTINUE;
}

static int acpi_pm_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			  uint32_t len, bool write)
{
	struct acpi_pm *pm = container_of(dev, struct acpi_pm, dev);
	uint16_t cnt = 0;

	if (!write) {
		memset(data, 0, len);
		if (offset == PM1_EN_OFFSET && len <= 2)
			memcpy(data, &pm->enable, len);
		if (offset == PM1_CNT_OFFSET)
			*(uint8_t *)data = SCI_EN;
		return VCPU_CONTINUE;
	}
	if (offset == PM1_EN_OFFSET && len <= 2)
		memcpy(&pm->enable, data, len);
	if (offset != PM1_CNT_OFFSET || len < 2)
		return VCPU_CONTINUE;
	memcpy(&cnt, data, sizeof(cnt));
	if (!(cnt & SLP_EN))
		return VCPU_CONTINUE;
	if (SLP_TYP(cnt) == ACPI_S3_SLP_TYP)
		return acpi_s3_resume(vcpu);
	if (SLP_TYP(cnt) != ACPI_S5_SLP_TYP)
		return VCPU_CONTINUE;
	vcpu->exit_status = 0;
	return vcpu_end(vcpu, VCPU_EXITED, "ACPI power-off (S5)");
}

static void acpi_pm_release(struct device *dev)
{
	free(container_of(dev, struct acpi_pm, dev));
}

int acpi_pm_add(struct vm *vm)
{
	struct acpi_pm *pm = calloc(1, sizeof(*pm));
	int ret;

	if (!pm)
		return -ENOMEM;
	pm->dev = (struct device){
		.name = "acpi-pm",
		.base = ACPI_PM1A_EVT_PORT,
		.len = PM1_CNT_OFFSET + 2,
		.access = acpi_pm_access,
		.release = acpi_pm_release,
	};
	ret = bus_add(&vm->pio, &pm->dev);
	if (ret)
		free(pm);
	return ret;
}
