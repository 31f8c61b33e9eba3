/* SPDX-License-Identifier: MIT */
/*
 * The mini-kvm hypercall ABI, version 2: the one contract between the host
 * (lib/hypercall.c) and every guest. Usable from C (host and guest) and from
 * guest assembly (.S files), so it holds only #defines outside the C part.
 *
 * How a guest calls: put the function number in AL and the arguments in
 * EBX and ECX, then write AL to port HC_PORT:
 *
 *	mov $HC_PUTCHAR, %al
 *	mov $'A', %bl
 *	mov $HC_PORT, %dx
 *	out %al, (%dx)
 *
 * The host puts the result in EAX before the guest resumes. A result of
 * 0xFFFFFFxx (HC_ERR_*) is an error; every function documents its own.
 */
#ifndef MINI_KVM_ABI_H
#define MINI_KVM_ABI_H

/*
 * Version 2 added HC_SYNC and moved the CPUID signature from leaf
 * 0x40000000, which stays KVM's own ("KVMKVMKVM", that Linux and
 * kvm-unit-tests look for), to HC_CPUID_LEAF.
 */
#define HC_ABI_VERSION 2

#define HC_PORT 0x500

/* EBX = exit status (0-255). Does not return: the guest ends. */
#define HC_EXIT 0
/* BL = byte to write to the guest's console. EAX = 0. */
#define HC_PUTCHAR 1
/* EAX = next console input byte (0-255), or HC_EOF at end of input. */
#define HC_GETCHAR 2
/*
 * EBX = guest address, ECX = length (at most HC_WRITE_MAX). Writes the
 * buffer to the console. The address is guest-virtual when the guest has
 * paging on (translated page by page), guest-physical otherwise.
 * EAX = bytes written, HC_ERR_INVAL if ECX > HC_WRITE_MAX, HC_ERR_FAULT if
 * any byte lies outside guest memory (address + length wrapping included).
 */
#define HC_WRITE 3
/*
 * EBX = tag, ECX = value: records a guest-side observation (a register, a
 * counter, a faulting address) for the host to check. Selftests use it.
 * EAX = 0, or HC_ERR_INVAL when the host keeps no more reports (HC_REPORT_MAX).
 */
#define HC_REPORT 4
/* EAX = HC_ABI_VERSION. Lets a guest check what it talks to. */
#define HC_VERSION 5
/*
 * EBX = stage: the guest has reached a stage of a staged test. vcpu_run()
 * returns VCPU_SYNC to the host, which checks what it wants and calls
 * vcpu_run() again to let the guest go on. EAX = 0.
 */
#define HC_SYNC 6

#define HC_NR_FUNCTIONS 7

#define HC_WRITE_MAX 4096
#define HC_REPORT_MAX 64

#define HC_EOF 0xFFFFFFFFu
#define HC_ERR_NOSYS 0xFFFFFFFEu /* unknown function number */
#define HC_ERR_FAULT 0xFFFFFFFDu /* address outside guest memory */
#define HC_ERR_INVAL 0xFFFFFFFCu /* argument out of range */

/*
 * mini-kvm announces itself in CPUID leaf 0x40000100 (the hypervisor
 * range, one block above KVM's): EBX, ECX, EDX spell "MiniKVM ABI2". A
 * guest that finds no such signature is not under mini-kvm and should use
 * its own devices (COM1).
 */
#define HC_CPUID_LEAF 0x40000100
#define HC_CPUID_SIG_EBX 0x696e694d /* "Mini" */
#define HC_CPUID_SIG_ECX 0x204d564b /* "KVM " */
#define HC_CPUID_SIG_EDX 0x32494241 /* "ABI2" */

/* The 16550 UART that mini-kvm emulates, minimally, at COM1. */
#define COM1_PORT 0x3f8

#if !defined(__ASSEMBLER__) && defined(__i386__)
/* Guest side, for guests written in C (built -m32 or -m16). */
static inline unsigned int hc_call(unsigned char fn, unsigned int ebx, unsigned int ecx)
{
	unsigned int eax = fn;

	__asm__ volatile("outb %%al, %%dx"
			 : "+a"(eax)
			 : "d"(HC_PORT), "b"(ebx), "c"(ecx)
			 : "memory");
	return eax;
}
#endif

#endif /* MINI_KVM_ABI_H */
