// SPDX-License-Identifier: MIT
/*
 * The few ACPI tables a Linux guest needs from us (ACPI 1.0 formats, but
 * for 2.0's FADT, whose boot flags say there is no legacy hardware):
 * a MADT, so that it finds every vCPU's local APIC and the IOAPIC, and a
 * FADT whose PM1a control port (lib/devices/acpi_pm.c) tells us when it
 * suspends or powers off, with the S3 and S5 sleep types named in a
 * two-line DSDT. They go in the BIOS area at 0xe0000, where Linux and
 * kvm-unit-tests scan for the RSDP.
 */
#include <errno.h>
#include <string.h>

#include "mini-kvm/device.h"

#define RSDP_GPA (ACPI_AREA_GPA + 0x000)
#define RSDT_GPA (ACPI_AREA_GPA + 0x040)
#define FADT_GPA (ACPI_AREA_GPA + 0x080)
#define FACS_GPA ACPI_FACS_GPA /* 64-byte aligned; lib/devices/acpi_pm.c reads it */
#define DSDT_GPA (ACPI_AREA_GPA + 0x1c0)
#define MADT_GPA (ACPI_AREA_GPA + 0x200)
#define LAPIC_GPA 0xfee00000u
#define IOAPIC_GPA 0xfec00000u
#define SCI_IRQ 9

struct __attribute__((packed)) acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision, checksum;
	char oem_id[6], oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
};

struct __attribute__((packed)) acpi_rsdp {
	char signature[8];
	uint8_t checksum;
	char oem_id[6];
	uint8_t revision;
	uint32_t rsdt;
};

struct __attribute__((packed)) acpi_rsdt {
	struct acpi_header h;
	uint32_t entry[2];
};

/* ACPI 2.0's FADT (revision 3): 244 bytes, 1.0's 116 and the 64-bit addresses. */
struct __attribute__((packed)) acpi_fadt {
	struct acpi_header h;
	uint32_t facs, dsdt;
	uint8_t int_model, reserved1;
	uint16_t sci_int;
	uint32_t smi_cmd; /* 0: always in ACPI mode, nothing to enable */
	uint8_t acpi_enable, acpi_disable, s4bios_req, reserved2;
	uint32_t pm1a_evt, pm1b_evt, pm1a_cnt, pm1b_cnt, pm2_cnt, pm_tmr, gpe0, gpe1;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len, gpe0_len, gpe1_len, gpe1_base;
	uint8_t reserved3;
	uint16_t p_lvl2_lat, p_lvl3_lat, flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t boot_arch; /* 0: no legacy devices, no 8042 (so Linux probes neither) */
	uint8_t reserved4;
	uint32_t flags;
	/* ACPI 2.0's additions: all 0, so that the 32-bit fields above count. */
	uint8_t reset_reg[12], reset_value, reserved5[3];
	uint64_t x_facs, x_dsdt;
	uint8_t x_blocks[8][12];
};

struct __attribute__((packed)) acpi_facs {
	char signature[4];
	uint32_t length, hardware_signature, waking_vector, global_lock, flags;
	uint8_t reserved[40];
};

struct __attribute__((packed)) madt_lapic {
	uint8_t type, length, processor_id, apic_id;
	uint32_t flags; /* 1: enabled */
};

struct __attribute__((packed)) madt_ioapic {
	uint8_t type, length, id, reserved;
	uint32_t address, gsi_base;
};

struct __attribute__((packed)) madt_override {
	uint8_t type, length, bus, source;
	uint32_t gsi;
	uint16_t flags;
};

struct __attribute__((packed)) acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address, flags; /* flags 1: there are 8259 PICs too */
	struct madt_ioapic ioapic;
	struct madt_override sci;
	struct madt_lapic lapic[VM_MAX_VCPUS];
};

/*
 * Name (_Sn_, Package () { TYPE, TYPE, 0, 0 }), in AML: the sleep types of
 * suspend to RAM (S3) and of power-off (S5).
 */
#define SLEEP_TYPE(n, type) 0x08, '_', 'S', n, '_', 0x12, 0x08, 0x04, 0x0a, type, 0x0a, type, 0, 0
static const uint8_t dsdt_aml[] = { SLEEP_TYPE('3', ACPI_S3_SLP_TYP),
				    SLEEP_TYPE('5', ACPI_S5_SLP_TYP) };

static uint8_t checksum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint8_t sum = 0;

	while (len--)
		sum += *b++;
	return -sum;
}

static void fill_header(struct acpi_header *h, const char *sig, uint32_t len, uint8_t revision)
{
	memcpy(h->signature, sig, 4);
	h->length = len;
	h->revision = revision;
	memcpy(h->oem_id, "MINKVM", 6);
	memcpy(h->oem_table_id, "MINI-KVM", 8);
	h->oem_revision = 1;
	memcpy(h->creator_id, "MKVM", 4);
	h->creator_revision = 1;
	h->checksum = checksum(h, len);
}

static void fill_fadt(struct acpi_fadt *f)
{
	f->facs = FACS_GPA;
	f->dsdt = DSDT_GPA;
	f->sci_int = SCI_IRQ;
	f->pm1a_evt = ACPI_PM1A_EVT_PORT;
	f->pm1a_cnt = ACPI_PM1A_CNT_PORT;
	f->pm1_evt_len = 4;
	f->pm1_cnt_len = 2;
	f->p_lvl2_lat = 101; /* > 100: no C2 */
	f->p_lvl3_lat = 1001; /* > 1000: no C3 */
	f->flags = 1 << 0 | 1 << 4 | 1 << 5; /* WBINVD; no fixed power or sleep button */
	fill_header(&f->h, "FACP", sizeof(*f), 3);
}

static void fill_madt(struct acpi_madt *m, int nr_cpus)
{
	uint32_t len = offsetof(struct acpi_madt, lapic) + nr_cpus * sizeof(m->lapic[0]);

	m->lapic_address = LAPIC_GPA;
	m->flags = 1;
	m->ioapic = (struct madt_ioapic){ .type = 1, .length = 12, .address = IOAPIC_GPA };
	/* The SCI is level-triggered but, as KVM's line for it, active high. */
	m->sci = (struct madt_override){
		.type = 2, .length = 10, .source = SCI_IRQ, .gsi = SCI_IRQ, .flags = 0xd
	};
	for (int i = 0; i < nr_cpus; i++)
		m->lapic[i] = (struct madt_lapic){
			.type = 0, .length = 8, .processor_id = i, .apic_id = i, .flags = 1
		};
	fill_header(&m->h, "APIC", len, 1);
}

int __vm_write_acpi(struct vm *vm, int nr_cpus, uint64_t *rsdp_gpa)
{
	uint8_t *area = vm_gpa_to_hva(vm, ACPI_AREA_GPA, ACPI_AREA_LEN);
	struct acpi_rsdp *rsdp = (void *)(area + RSDP_GPA - ACPI_AREA_GPA);
	struct acpi_rsdt *rsdt = (void *)(area + RSDT_GPA - ACPI_AREA_GPA);
	struct acpi_facs *facs = (void *)(area + FACS_GPA - ACPI_AREA_GPA);
	struct acpi_header *dsdt = (void *)(area + DSDT_GPA - ACPI_AREA_GPA);

	_Static_assert(FADT_GPA + sizeof(struct acpi_fadt) <= FACS_GPA &&
			       DSDT_GPA + sizeof(struct acpi_header) + sizeof(dsdt_aml) <=
				       MADT_GPA &&
			       MADT_GPA - ACPI_AREA_GPA + sizeof(struct acpi_madt) <= ACPI_AREA_LEN,
		       "the tables do not overlap and fit their area");
	_Static_assert(sizeof(struct acpi_fadt) == 244, "ACPI 2.0's FADT");
	_Static_assert(offsetof(struct acpi_facs, waking_vector) == ACPI_FACS_WAKING_VECTOR,
		       "acpi_pm.c reads the waking vector there");
	if (!area || nr_cpus < 1 || nr_cpus > VM_MAX_VCPUS) {
		snprintf(vm->error, sizeof(vm->error), "no room for ACPI tables at 0x%x",
			 ACPI_AREA_GPA);
		return -EFBIG;
	}
	memset(area, 0, ACPI_AREA_LEN);
	fill_fadt((void *)(area + FADT_GPA - ACPI_AREA_GPA));
	fill_madt((void *)(area + MADT_GPA - ACPI_AREA_GPA), nr_cpus);
	memcpy(facs->signature, "FACS", 4);
	facs->length = sizeof(*facs);
	memcpy(dsdt + 1, dsdt_aml, sizeof(dsdt_aml));
	fill_header(dsdt, "DSDT", sizeof(*dsdt) + sizeof(dsdt_aml), 1);
	rsdt->entry[0] = FADT_GPA;
	rsdt->entry[1] = MADT_GPA;
	fill_header(&rsdt->h, "RSDT", sizeof(*rsdt), 1);
	memcpy(rsdp->signature, "RSD PTR ", 8);
	memcpy(rsdp->oem_id, "MINKVM", 6);
	rsdp->rsdt = RSDT_GPA;
	rsdp->checksum = checksum(rsdp, sizeof(*rsdp));
	*rsdp_gpa = RSDP_GPA;
	return 0;
}
