/* SPDX-License-Identifier: MIT */
/* Thin wrappers around the x86 instructions the kernel needs. */
#ifndef OS1K_X86_H
#define OS1K_X86_H

#include "common.h"

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 read_cr2(void)
{
	u32 v;

	__asm__ volatile("mov %%cr2, %0" : "=r"(v));
	return v;
}

static inline void write_cr3(u32 v)
{
	__asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid"
			 : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

/* Fill n 32-bit words with zero: one instruction, however many words. */
static inline void zero_words(void *dst, u32 n)
{
	__asm__ volatile("cld; rep stosl"
			 : "+D"(dst), "+c"(n)
			 : "a"(0)
			 : "memory");
}

/* Copy n 32-bit words. */
static inline void copy_words(void *dst, const void *src, u32 n)
{
	__asm__ volatile("cld; rep movsl"
			 : "+D"(dst), "+S"(src), "+c"(n)
			 :
			 : "memory");
}

#endif /* OS1K_X86_H */
