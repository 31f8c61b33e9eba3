// SPDX-License-Identifier: MIT
/*
 * QEMU's fw_cfg, the traditional port interface: the guest writes a
 * 16-bit key to 0x510, then reads the item a byte at a time from 0x511.
 * kvm-unit-tests reads the CPU count and the memory size from it. Items
 * are little-endian; reading past an item's end, or an unknown key, gives
 * zeros. No DMA interface (FW_CFG_ID says so).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/device.h"

#define FW_CFG_PORT 0x510
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_RAM_SIZE 0x03
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_MAX_CPUS 0x0f
#define FW_CFG_MAX_RAM 0x11
#define FW_CFG_NR_KEYS (FW_CFG_MAX_RAM + 1)
#define FW_CFG_ITEM_MAX 8

struct fw_cfg {
	struct device dev;
	pthread_mutex_t lock;
	uint16_t key;
	uint32_t offset;
	uint8_t items[FW_CFG_NR_KEYS][FW_CFG_ITEM_MAX];
};

static void put_le(uint8_t *item, uint64_t value, int bytes)
{
	for (int i = 0; i < bytes; i++)
		item[i] = value >> (8 * i);
}

static int fw_cfg_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
			 uint32_t len, bool write)
{
	struct fw_cfg *fw = (struct fw_cfg *)dev;
	uint8_t *bytes = data;

	(void)vcpu;
	pthread_mutex_lock(&fw->lock);
	if (offset == 0 && write) {
		/* The selector: a 16-bit write (a byte write sets the low half). */
		fw->key = len >= 2 ? bytes[0] | bytes[1] << 8 : bytes[0];
		fw->offset = 0;
	} else if (offset == 1 && !write) {
		for (uint32_t i = 0; i < len; i++, fw->offset++)
			bytes[i] = fw->key < FW_CFG_NR_KEYS && fw->offset < FW_CFG_ITEM_MAX
					   ? fw->items[fw->key][fw->offset]
					   : 0;
	} else if (!write) {
		memset(data, 0, len); /* the selector reads back as nothing */
	}
	pthread_mutex_unlock(&fw->lock);
	return VCPU_CONTINUE;
}

static void fw_cfg_release(struct device *dev)
{
	free(dev);
}

/* What the guest will read: its CPU count and memory size. */
int fw_cfg_add(struct vm *vm, uint16_t nr_cpus, uint64_t ram_size)
{
	struct fw_cfg *fw = calloc(1, sizeof(*fw));
	int ret;

	if (!fw)
		return -ENOMEM;
	fw->dev = (struct device){
		.name = "fw_cfg",
		.base = FW_CFG_PORT,
		.len = 2,
		.access = fw_cfg_access,
		.release = fw_cfg_release,
	};
	pthread_mutex_init(&fw->lock, NULL);
	memcpy(fw->items[FW_CFG_SIGNATURE], "QEMU", 4);
	put_le(fw->items[FW_CFG_ID], 1, 4); /* the traditional interface only */
	put_le(fw->items[FW_CFG_RAM_SIZE], ram_size, 8);
	put_le(fw->items[FW_CFG_NB_CPUS], nr_cpus, 2);
	put_le(fw->items[FW_CFG_MAX_CPUS], nr_cpus, 2);
	put_le(fw->items[FW_CFG_MAX_RAM], ram_size, 8);
	ret = bus_add(&vm->pio, &fw->dev);
	if (ret)
		free(fw);
	return ret;
}
