/* SPDX-License-Identifier: MIT */
/*
 * The console. Under mini-kvm (found through its CPUID signature) every
 * byte goes through a hypercall, and input has a real end (HC_EOF). On
 * any other PC (QEMU) it is the COM1 UART, polled, and power-off is a
 * write to QEMU's isa-debug-exit port.
 */
#include "kernel.h"
#include "x86.h"
#include "mini-kvm/abi.h"

#define COM1_DATA	(COM1_PORT + 0)
#define COM1_IER	(COM1_PORT + 1)
#define COM1_LCR	(COM1_PORT + 3)
#define COM1_MCR	(COM1_PORT + 4)
#define COM1_LSR	(COM1_PORT + 5)
#define LSR_DATA_READY	0x01
#define LSR_THR_EMPTY	0x20

#define DEBUG_EXIT_PORT	0xf4	/* QEMU isa-debug-exit: exits with (v<<1)|1 */

static int minikvm;
static int input_ended;

/*
 * Other hypervisors, and QEMU TCG, may answer leaf 0x40000000 with zeros
 * or with some other leaf's data, so all three signature words must match.
 * EAX (the highest hypervisor leaf) is not needed and not checked.
 */
static int detect_minikvm(void)
{
	u32 a, b, c, d;

	cpuid(HC_CPUID_LEAF, &a, &b, &c, &d);
	return b == HC_CPUID_SIG_EBX && c == HC_CPUID_SIG_ECX &&
	       d == HC_CPUID_SIG_EDX;
}

static void com1_init(void)
{
	outb(COM1_IER, 0x00);	/* no UART interrupts: we poll */
	outb(COM1_LCR, 0x80);	/* DLAB on to set the divisor... */
	outb(COM1_DATA, 0x01);	/* ...115200 baud */
	outb(COM1_IER, 0x00);
	outb(COM1_LCR, 0x03);	/* 8 bits, no parity, 1 stop bit */
	/*
	 * FCR stays as it is: switching the FIFOs on clears them, and input
	 * piped in may already be waiting in the receive register.
	 */
	outb(COM1_MCR, 0x03);	/* DTR, RTS */
}

void console_init(void)
{
	minikvm = detect_minikvm();
	if (!minikvm)
		com1_init();
}

int console_is_minikvm(void)
{
	return minikvm;
}

void console_putc(char c)
{
	if (minikvm) {
		hc_call(HC_PUTCHAR, (u8)c, 0);
		return;
	}
	while (!(inb(COM1_LSR) & LSR_THR_EMPTY))
		;
	outb(COM1_DATA, (u8)c);
}

/* buf must be mapped in the current address space. */
void console_write(const char *buf, u32 len)
{
	if (minikvm && len <= HC_WRITE_MAX &&
	    hc_call(HC_WRITE, (u32)buf, len) == len)
		return;
	/* COM1, or a host that refused HC_WRITE: a byte at a time. */
	while (len--)
		console_putc(*buf++);
}

/*
 * Without blocking when we can help it: returns 1 with *c = a byte, or -1
 * at end of input, or 0 when nothing is waiting yet (COM1 only; the caller
 * sleeps and asks again). mini-kvm's HC_GETCHAR blocks in the host.
 */
int console_getc(int *c)
{
	u32 v;

	if (input_ended)
		return -1;
	if (minikvm) {
		v = hc_call(HC_GETCHAR, 0, 0);
		if (v > 0xff) {	/* HC_EOF, or an error: either way, the end */
			input_ended = 1;
			return -1;
		}
		*c = (int)v;
		return 1;
	}
	if (!(inb(COM1_LSR) & LSR_DATA_READY))
		return 0;
	*c = inb(COM1_DATA);
	return 1;
}

void power_off(int status)
{
	__asm__ volatile("cli");
	if (minikvm)
		hc_call(HC_EXIT, (u32)status & 0xff, 0);
	else
		outb(DEBUG_EXIT_PORT, (u8)status);
	/* No way to power off here: stop for good. */
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* kprintf gathers a line and writes it at once: one hypercall a line. */
static char line[128];
static u32 line_len;

static void kflush(void)
{
	if (line_len)
		console_write(line, line_len);
	line_len = 0;
}

static void kputc(char c)
{
	line[line_len++] = c;
	if (c == '\n' || line_len == sizeof(line))
		kflush();
}

void kprintf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format(kputc, fmt, ap);
	va_end(ap);
	kflush();
}

void panic(const char *fmt, ...)
{
	va_list ap;

	__asm__ volatile("cli");
	kprintf("PANIC: ");
	va_start(ap, fmt);
	format(kputc, fmt, ap);
	va_end(ap);
	kprintf("\n");
	power_off(PANIC_STATUS);
}
