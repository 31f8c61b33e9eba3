// SPDX-License-Identifier: MIT
/*
 * COM1: just enough of a 16550 for a polling console driver. The
 * transmitter is always idle (LSR.THRE|TEMT), a byte written to THR goes
 * straight to the console, and LSR.DR shows when input is waiting. No
 * interrupts, no FIFOs: guests that poll need none. One per VM, shared
 * by its vCPUs, as on a PC.
 */
#include <errno.h>
#include <linux/serial_reg.h>
#include <stdlib.h>

#include "mini-kvm/device.h"

#define UART_NR_REGS 8

struct uart {
	struct device dev;
	pthread_mutex_t lock;
	uint8_t ier, lcr, mcr, scr, dll, dlm;
};

/* The registers that only store what the guest wrote. */
static uint8_t *uart_reg(struct uart *uart, unsigned int reg)
{
	bool dlab = uart->lcr & UART_LCR_DLAB;

	switch (reg) {
	case UART_TX:
		return dlab ? &uart->dll : NULL;
	case UART_IER:
		return dlab ? &uart->dlm : &uart->ier;
	case UART_LCR:
		return &uart->lcr;
	case UART_MCR:
		return &uart->mcr;
	case UART_SCR:
		return &uart->scr;
	default:
		return NULL;
	}
}

static uint8_t uart_read(struct uart *uart, struct vcpu *vcpu, unsigned int reg)
{
	uint8_t *r = uart_reg(uart, reg);

	if (r)
		return *r;
	switch (reg) {
	case UART_RX:
		return console_input_ready(vcpu) ? console_read(vcpu, false) : 0;
	case UART_IIR:
		return UART_IIR_NO_INT;
	case UART_LSR:
		return UART_LSR_THRE | UART_LSR_TEMT |
		       (console_input_ready(vcpu) ? UART_LSR_DR : 0);
	case UART_MSR:
		return UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	default:
		return 0xff;
	}
}

static int uart_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
		       uint32_t len, bool write)
{
	struct uart *uart = (struct uart *)dev;
	uint8_t *byte = data, *r;

	if (len != 1 || offset >= UART_NR_REGS) {
		/* Wider than a byte: the empty bus's answer. */
		for (uint32_t i = 0; !write && i < len; i++)
			byte[i] = 0xff;
		return VCPU_CONTINUE;
	}
	pthread_mutex_lock(&uart->lock);
	r = uart_reg(uart, offset);
	if (!write)
		*byte = uart_read(uart, vcpu, offset);
	else if (r)
		*r = *byte;
	else if (offset == UART_TX)
		console_write(vcpu, byte, 1);
	pthread_mutex_unlock(&uart->lock);
	return VCPU_CONTINUE;
}

static void uart_release(struct device *dev)
{
	free(dev);
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
	pthread_mutex_init(&uart->lock, NULL);
	ret = bus_add(&vm->pio, &uart->dev);
	if (ret)
		free(uart);
	return ret;
}
