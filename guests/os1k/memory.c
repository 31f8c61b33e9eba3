/* SPDX-License-Identifier: MIT */
/*
 * Memory: a pool of 4 KiB physical pages and the page tables built from
 * them. The kernel's own mapping is fixed and made of 4 MiB pages; only
 * user memory uses 4 KiB pages.
 */
#include "kernel.h"
#include "x86.h"

extern u8 __kernel_end[];

u32 kernel_pgdir[1024] __attribute__((aligned(4096)));

/* Pages are handed out from next_fresh upwards; freed ones are chained. */
static u32 next_fresh, pool_end;
static void *free_list;

void memory_init(void)
{
	u32 pa;

	/* KERNEL_BASE + x -> x for all the RAM we use; U clear. */
	for (pa = 0; pa < RAM_SIZE; pa += BIG_PAGE_SIZE)
		kernel_pgdir[(KERNEL_BASE + pa) >> 22] =
			pa | PTE_PS | PTE_W | PTE_P;
	/* The boot directory also mapped 0 -> 0; this one does not. */
	write_cr3(V2P(kernel_pgdir));

	next_fresh = V2P(__kernel_end);
	pool_end = RAM_SIZE;
}

/* A zeroed page (kernel virtual address), or NULL when none are left. */
void *alloc_page(void)
{
	void *page = free_list;

	if (page) {
		free_list = *(void **)page;
	} else {
		if (next_fresh >= pool_end)
			return NULL;
		page = P2V(next_fresh);
		next_fresh += PAGE_SIZE;
	}
	zero_words(page, PAGE_SIZE / 4);
	return page;
}

void free_page(void *page)
{
	*(void **)page = free_list;
	free_list = page;
}

/* A page directory with the kernel's half already in place. */
u32 *new_page_directory(void)
{
	u32 *pgdir = alloc_page();

	if (pgdir)
		copy_words(pgdir + 512, kernel_pgdir + 512, 512);
	return pgdir;
}

/* Map the 4 KiB page va -> pa, making a page table if needed. */
int map_page(u32 *pgdir, u32 va, u32 pa, u32 flags)
{
	u32 *pde = &pgdir[va >> 22];
	u32 *table;

	if (!(*pde & PTE_P)) {
		table = alloc_page();
		if (!table)
			return -1;
		*pde = V2P(table) | PTE_U | PTE_W | PTE_P;
	}
	table = P2V(*pde & ~0xfffu);
	table[(va >> 12) & 0x3ff] = pa | flags | PTE_P;
	return 0;
}

/* Free the user half: pages, page tables, then the directory itself. */
void free_user_memory(u32 *pgdir)
{
	u32 i, j, *table;

	for (i = 0; i < KERNEL_BASE >> 22; i++) {
		if (!(pgdir[i] & PTE_P))
			continue;
		table = P2V(pgdir[i] & ~0xfffu);
		for (j = 0; j < 1024; j++)
			if (table[j] & PTE_P)
				free_page(P2V(table[j] & ~0xfffu));
		free_page(table);
	}
	free_page(pgdir);
}

/* Is every byte of [va, va + len) in a present user page? */
int user_range_ok(u32 *pgdir, u32 va, u32 len)
{
	u32 page, *table;

	if (len == 0)
		return 1;
	if (va + len < va || va + len > KERNEL_BASE)
		return 0;
	for (page = va & ~0xfffu; page < va + len; page += PAGE_SIZE) {
		if ((pgdir[page >> 22] & (PTE_P | PTE_U)) != (PTE_P | PTE_U))
			return 0;
		table = P2V(pgdir[page >> 22] & ~0xfffu);
		if ((table[(page >> 12) & 0x3ff] & (PTE_P | PTE_U)) !=
		    (PTE_P | PTE_U))
			return 0;
	}
	return 1;
}
