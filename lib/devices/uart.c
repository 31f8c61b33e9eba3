// SPDX-License-Identifier: MIT
/*
 * COM1: a 16550A as a guest's driver sees it, polled or interrupt-driven.
 * The transmitter is always idle: a byte written to THR goes straight to
 * the console, and LSR says THRE|TEMT. Input comes from the console, or
 * from uart_receive() when the VM's owner pushes it (as it must for a
 * guest that waits for the receive interrupt instead of polling LSR.DR).
 *
 * With the in-kernel irqchip, IRQ 4 follows the interrupt identification
 * (received data first, then "transmitter empty"), gated by MCR.OUT2 as
 * on a PC. The ISA line is edge-triggered, so every new condition lowers
 * and raises it again. One per VM, shared by its vCPUs.
 */
#include <errno.h>
#include <linux/serial_reg.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm/device.h"

#define UART_NR_REGS 8
#define UART_IRQ 4
#define UART_RX_SIZE 4096 /* what the owner may push ahead of the guest */

struct uart {
	struct device dev;
	struct vm *vm;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	bool thre_pending; /* the THRE interrupt, until IIR reports it or THR is written */
	bool irq_high;
	uint8_t rx[UART_RX_SIZE];
	unsigned int rx_head, rx_count;
};

/* The registers that only store what the guest wrote. */
static uint8_t *uart_reg(struct uart *uart, unsigned int reg)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		return dlab ? &uart->dll : NULL;
	case UART_IER:
		return dlab ? &uart->dlm : NULL;
	case UART_LCR:
		return &uart->lcr;
	case UART_SCR:
		return &uart->scr;
	default:
		return NULL;
	}
}

/*
 * Pushed bytes are on the line, not yet in the FIFO, until the driver
 * listens (IER.RDI): setting up a port clears the FIFO and reads RBR with
 * interrupts off, and must not take them.
 */
static bool rx_pushed(struct uart *uart)
{
	return uart->rx_count && (uart->ier & UART_IER_RDI);
}

static bool rx_ready(struct uart *uart, struct vcpu *vcpu)
{
	return rx_pushed(uart) || (vcpu && console_input_ready(vcpu));
}

static uint8_t uart_iir(struct uart *uart, struct vcpu *vcpu)
{
	uint8_t fifo = uart->fcr & UART_FCR_ENABLE_FIFO ? 0xc0 : 0;

	if ((uart->ier & UART_IER_RDI) && rx_ready(uart, vcpu))
		return fifo | UART_IIR_RDI;
	if ((uart->ier & UART_IER_THRI) && uart->thre_pending)
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

/* IRQ 4 after any change: a fresh edge for a pending condition. */
static void uart_update_irq(struct uart *uart, struct vcpu *vcpu)
{
	bool high;

	/* Polled guests pay nothing for this: no irqchip, or no interrupt enabled. */
	if (!uart->vm->has_irqchip || (!uart->ier && !uart->irq_high))
		return;
	high = !(uart_iir(uart, vcpu) & UART_IIR_NO_INT) && (uart->mcr & UART_MCR_OUT2);
	if (!high && !uart->irq_high)
		return;
	vm_irq_line(uart->vm, UART_IRQ, 0);
	if (high)
		vm_irq_line(uart->vm, UART_IRQ, 1);
	uart->irq_high = high;
}

static int uart_rx_take(struct uart *uart, struct vcpu *vcpu)
{
	uint8_t byte;

	if (!rx_pushed(uart))
		return console_input_ready(vcpu) ? console_read(vcpu, false) : 0;
	byte = uart->rx[uart->rx_head];
	uart->rx_head = (uart->rx_head + 1) % UART_RX_SIZE;
	uart->rx_count--;
	return byte;
}

/* In loopback (MCR.LOOP) the modem outputs come back as its inputs. */
static uint8_t uart_msr(struct uart *uart)
{
	uint8_t m = uart->mcr;

	if (!(m & UART_MCR_LOOP))
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	return (m & UART_MCR_DTR ? UART_MSR_DSR : 0) | (m & UART_MCR_RTS ? UART_MSR_CTS : 0) |
	       (m & UART_MCR_OUT1 ? UART_MSR_RI : 0) | (m & UART_MCR_OUT2 ? UART_MSR_DCD : 0);
}

static uint8_t uart_read(struct uart *uart, struct vcpu *vcpu, unsigned int reg)
{
	uint8_t *r = uart_reg(uart, reg), iir;

	if (r)
		return *r;
	switch (reg) {
	case UART_RX:
		return uart_rx_take(uart, vcpu);
	case UART_IER:
		return uart->ier;
	case UART_IIR:
		iir = uart_iir(uart, vcpu);
		if ((iir & 0xf) == UART_IIR_THRI)
			uart->thre_pending = false; /* reading IIR takes the THRE interrupt */
		return iir;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT | (rx_ready(uart, vcpu) ? UART_LSR_DR : 0);
	case UART_MCR:
		return uart->mcr;
	case UART_MSR:
		return uart_msr(uart);
	default:
		return 0xff;
	}
}

static void uart_write(struct uart *uart, struct vcpu *vcpu, unsigned int reg, uint8_t byte)
{
	uint8_t *r = uart_reg(uart, reg);

	if (r) {
		*r = byte;
		return;
	}
	switch (reg) {
	case UART_TX:
		console_write(vcpu, &byte, 1);
		uart->thre_pending = true; /* sent at once: empty again */
		break;
	case UART_IER:
		/* Enabling THRI with THR empty interrupts at once, as Linux's probe expects. */
		if ((byte & UART_IER_THRI) && !(uart->ier & UART_IER_THRI))
			uart->thre_pending = true;
		uart->ier = byte & 0x0f;
		break;
	case UART_FCR:
		uart->fcr = byte & UART_FCR_ENABLE_FIFO;
		break;
	case UART_MCR:
		uart->mcr = byte & 0x1f;
		break;
	}
}

static int uart_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
		       uint32_t len, bool write)
{
	struct uart *uart = container_of(dev, struct uart, dev);
	uint8_t *byte = data;

	if (len != 1 || offset >= UART_NR_REGS) {
		/* Wider than a byte: the empty bus's answer. */
		if (!write)
			memset(data, 0xff, len);
		return VCPU_CONTINUE;
	}
	pthread_mutex_lock(&uart->lock);
	if (write)
		uart_write(uart, vcpu, offset, *byte);
	else
		*byte = uart_read(uart, vcpu, offset);
	if (write || offset == UART_RX || offset == UART_IIR)
		uart_update_irq(uart, vcpu);
	pthread_mutex_unlock(&uart->lock);
	return VCPU_CONTINUE;
}

/*
 * Bytes for the guest to read, from the VM's owner on any thread.
 * Returns how many were taken: fewer than len when the guest is behind.
 */
size_t uart_receive(struct vm *vm, const void *buf, size_t len)
{
	struct device *dev = bus_find(&vm->pio, COM1_PORT);
	struct uart *uart;
	size_t n = 0;

	if (!dev || strcmp(dev->name, "uart"))
		return 0;
	uart = container_of(dev, struct uart, dev);
	pthread_mutex_lock(&uart->lock);
	for (; n < len && uart->rx_count < UART_RX_SIZE; n++)
		uart->rx[(uart->rx_head + uart->rx_count++) % UART_RX_SIZE] =
			((const uint8_t *)buf)[n];
	if (n)
		uart_update_irq(uart, NULL);
	pthread_mutex_unlock(&uart->lock);
	return n;
}

static void uart_release(struct device *dev)
{
	free(container_of(dev, struct uart, dev));
}

int uart_add(struct vm *vm, uint16_t base)
{
	struct uart *uart = calloc(1, sizeof(*uart));
	int ret;

	if (!uart)
		return -ENOMEM;
	uart->dev = (struct device){
		.name = "uart",
		.base = base,
		.len = UART_NR_REGS,
		.access = uart_access,
		.release = uart_release,
	};
	uart->vm = vm;
	uart->mcr = UART_MCR_OUT2;
	pthread_mutex_init(&uart->lock, NULL);
	ret = bus_add(&vm->pio, &uart->dev);
	if (ret)
		free(uart);
	return ret;
}
