// SPDX-License-Identifier: MIT
/*
 * COM1: just enough of a 16550 for a polling console driver. The
 * transmitter is always idle (LSR.THRE|TEMT), a byte written to THR goes
 * straight to the console, and LSR.DR shows when input is waiting. No
 * interrupts, no FIFOs: guests that poll need none.
 */
#include "mini-kvm/kvm.h"

enum { RBR_THR = 0, IER = 1, IIR_FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };
#define LCR_DLAB 0x80
#define LSR_DR 0x01
#define LSR_THRE_TEMT 0x60
#define IIR_NO_INTERRUPT 0x01
#define MSR_DCD_DSR_CTS 0xb0

void uart_reset(struct uart *uart)
{
	*uart = (struct uart){ .pending = CONSOLE_EMPTY };
}

static uint8_t *uart_reg(struct uart *uart, unsigned int reg)
{
	bool dlab = uart->lcr & LCR_DLAB;

	switch (reg) {
	case RBR_THR:
		return dlab ? &uart->dll : NULL;
	case IER:
		return dlab ? &uart->dlm : &uart->ier;
	case LCR:
		return &uart->lcr;
	case MCR:
		return &uart->mcr;
	case SCR:
		return &uart->scr;
	default:
		return NULL;
	}
}

/* Read input ahead, without blocking, so LSR.DR can tell the truth. */
static bool uart_input_ready(struct vcpu *vcpu)
{
	struct uart *uart = &vcpu->uart;

	if (uart->pending == CONSOLE_EMPTY)
		uart->pending = vcpu->console.getc(vcpu->console.opaque, false);
	return uart->pending >= 0;
}

static uint8_t uart_read(struct vcpu *vcpu, unsigned int reg)
{
	struct uart *uart = &vcpu->uart;
	uint8_t *r = uart_reg(uart, reg);
	uint8_t byte;

	if (r)
		return *r;
	switch (reg) {
	case RBR_THR:
		if (!uart_input_ready(vcpu))
			return 0;
		byte = uart->pending;
		uart->pending = CONSOLE_EMPTY;
		return byte;
	case IIR_FCR:
		return IIR_NO_INTERRUPT;
	case LSR:
		return LSR_THRE_TEMT | (uart_input_ready(vcpu) ? LSR_DR : 0);
	case MSR:
		return MSR_DCD_DSR_CTS;
	default:
		return 0xff;
	}
}

void uart_io(struct vcpu *vcpu, uint16_t port, bool out, uint8_t *data)
{
	unsigned int reg = port - COM1_PORT;
	uint8_t *r = uart_reg(&vcpu->uart, reg);

	if (!out)
		*data = uart_read(vcpu, reg);
	else if (r)
		*r = *data;
	else if (reg == RBR_THR)
		vcpu->console.write(vcpu->console.opaque, data, 1);
}
