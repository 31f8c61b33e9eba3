// SPDX-License-Identifier: MIT
/*
 * A VM's console as its devices see it: the owner's callbacks, plus the
 * one byte that a non-blocking "is input waiting?" (the UART's LSR.DR) had
 * to read ahead. Every device that reads input takes that byte first, so
 * none of them reaches into another.
 */
#include "mini-kvm/device.h"

void console_init(struct console *console)
{
	pthread_mutex_init(&console->lock, NULL);
	console->pending = CONSOLE_EMPTY;
}

void console_write(struct vcpu *vcpu, const void *buf, size_t len)
{
	struct console *c = &vcpu->vm->console;

	if (c->ops.write)
		c->ops.write(c->ops.opaque, vcpu, buf, len);
}

static int console_take(struct console *c)
{
	int byte = c->pending;

	c->pending = CONSOLE_EMPTY;
	return byte;
}

/* A byte, CONSOLE_EOF, or (wait false) CONSOLE_EMPTY. */
int console_read(struct vcpu *vcpu, bool wait)
{
	struct console *c = &vcpu->vm->console;
	int byte;

	pthread_mutex_lock(&c->lock);
	byte = console_take(c);
	pthread_mutex_unlock(&c->lock);
	if (byte != CONSOLE_EMPTY)
		return byte;
	if (!c->ops.getc)
		return CONSOLE_EOF;
	/* Not under the lock: a blocking read must not hold up other vCPUs. */
	return c->ops.getc(c->ops.opaque, vcpu, wait);
}

bool console_input_ready(struct vcpu *vcpu)
{
	struct console *c = &vcpu->vm->console;
	bool ready;

	pthread_mutex_lock(&c->lock);
	if (c->pending == CONSOLE_EMPTY && c->ops.getc)
		c->pending = c->ops.getc(c->ops.opaque, vcpu, false);
	ready = c->pending >= 0;
	pthread_mutex_unlock(&c->lock);
	return ready;
}
