// SPDX-License-Identifier: MIT
/*
 * gdb's Remote Serial Protocol, the pure half (mini-kvm-gdb-packet.h):
 * bytes from gdb into packets, packets into requests, replies into
 * frames. Everything here reads untrusted input and is fuzzed
 * (fuzz/fuzz_gdb_packet.c): every read is bounded by a length, every
 * number by its width, every write by the caller's size.
 */
#include <string.h>

#include "mini-kvm-gdb-packet.h"

enum { ST_IDLE, ST_DATA, ST_CSUM1, ST_CSUM2 };

void rsp_decoder_init(struct rsp_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->state = ST_IDLE;
}

static int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum rsp_event rsp_decode(struct rsp_decoder *d, uint8_t byte)
{
	int v;

	switch (d->state) {
	case ST_IDLE:
		switch (byte) {
		case '$':
			break;
		case 0x03:
			return RSP_INTERRUPT;
		case '+':
			return RSP_ACK;
		case '-':
			return RSP_NACK;
		default:
			return RSP_NONE; /* noise between packets */
		}
		break;
	case ST_DATA:
		if (byte == '#') {
			d->state = ST_CSUM1;
			return RSP_NONE;
		}
		if (byte == '$')
			break; /* a packet cut short: start again */
		d->sum += byte;
		if (d->len < RSP_PACKET_MAX)
			d->buf[d->len++] = byte;
		else
			d->overflow = true;
		return RSP_NONE;
	case ST_CSUM1:
	case ST_CSUM2:
		v = hex_digit(byte);
		if (v < 0) {
			d->state = ST_IDLE;
			return RSP_BAD_PACKET;
		}
		d->csum = d->csum << 4 | v;
		if (d->state == ST_CSUM1) {
			d->state = ST_CSUM2;
			return RSP_NONE;
		}
		d->state = ST_IDLE;
		d->buf[d->len] = '\0';
		return d->csum == d->sum && !d->overflow ? RSP_PACKET : RSP_BAD_PACKET;
	}
	/* '$': a new packet */
	d->state = ST_DATA;
	d->sum = d->csum = 0;
	d->len = 0;
	d->overflow = false;
	return RSP_NONE;
}

/* A cursor over the payload: nothing past end is ever read. */
struct cursor {
	const char *p, *end;
};

static bool at_end(const struct cursor *c)
{
	return c->p == c->end;
}

static bool eat(struct cursor *c, char ch)
{
	if (at_end(c) || *c->p != ch)
		return false;
	c->p++;
	return true;
}

static bool eat_str(struct cursor *c, const char *s)
{
	size_t n = strlen(s);

	if ((size_t)(c->end - c->p) < n || memcmp(c->p, s, n))
		return false;
	c->p += n;
	return true;
}

/* One or more hex digits, at most 16 (a uint64_t). */
static bool hex_u64(struct cursor *c, uint64_t *out)
{
	uint64_t v = 0;
	int n = 0, d;

	while (!at_end(c) && (d = hex_digit((unsigned char)*c->p)) >= 0) {
		if (++n > 16)
			return false;
		v = v << 4 | d;
		c->p++;
	}
	*out = v;
	return n > 0;
}

static bool hex_u32(struct cursor *c, uint32_t *out)
{
	uint64_t v;

	if (!hex_u64(c, &v) || v > UINT32_MAX)
		return false;
	*out = v;
	return true;
}

/* A thread id: "-1" (all), or hex (0 any). Only vCPU numbers are used. */
static bool thread_id(struct cursor *c, long *out)
{
	uint64_t v;

	if (eat_str(c, "-1")) {
		*out = RSP_ALL_THREADS;
		return true;
	}
	if (!hex_u64(c, &v) || v > 0x7fffffff)
		return false;
	*out = v;
	return true;
}

/* Hex pairs up to the end, or to stop (when not 0), into data[0, size). */
static bool hex_data(struct cursor *c, uint8_t *data, size_t size, size_t *len)
{
	size_t n = 0;

	while (!at_end(c)) {
		int hi, lo;

		if (c->end - c->p < 2)
			return false;
		hi = hex_digit((unsigned char)c->p[0]);
		lo = hex_digit((unsigned char)c->p[1]);
		if (hi < 0 || lo < 0 || n == size)
			return false;
		data[n++] = hi << 4 | lo;
		c->p += 2;
	}
	*len = n;
	return true;
}

/* c, s, C sig, S sig: an optional address follows (we refuse it). */
static bool resume_action(struct cursor *c, char *action)
{
	uint64_t sig;

	if (eat(c, 'c') || eat(c, 's')) {
		*action = c->p[-1];
		return true;
	}
	if (eat(c, 'C') || eat(c, 'S')) {
		*action = c->p[-1] == 'C' ? 'c' : 's';
		/* The signal is the guest's to ignore: a VM has no signals. */
		return hex_u64(c, &sig) && sig <= 0xff;
	}
	return false;
}

/* vCont;ACTION[:THREAD]... : one thread's action, and what the others do. */
static enum rsp_kind parse_vcont(struct cursor *c, struct rsp_request *req)
{
	req->thread = RSP_ALL_THREADS;
	req->action = 0;
	req->others = 0;
	while (eat(c, ';')) {
		char action;
		long thread;

		if (!resume_action(c, &action))
			return RSP_MALFORMED;
		if (!eat(c, ':')) {
			if (!req->others)
				req->others = action; /* the default: the first counts */
			continue;
		}
		if (!thread_id(c, &thread))
			return RSP_MALFORMED;
		if (thread == RSP_ALL_THREADS) {
			if (!req->others)
				req->others = action;
		} else if (!req->action) {
			/* gdb names one thread at most; the first one counts */
			req->thread = thread;
			req->action = action;
		}
	}
	if (!at_end(c) || (!req->action && !req->others))
		return RSP_MALFORMED;
	if (!req->action) {
		req->action = req->others; /* every thread alike */
		req->thread = RSP_ALL_THREADS;
	}
	return RSP_RESUME;
}

static enum rsp_kind parse_query(struct cursor *c, struct rsp_request *req)
{
	(void)req;
	if (eat_str(c, "qSupported"))
		return RSP_QUERY_SUPPORTED;
	if (eat_str(c, "qAttached"))
		return RSP_QUERY_ATTACHED;
	if (eat_str(c, "qfThreadInfo"))
		return at_end(c) ? RSP_QUERY_FIRST_THREAD : RSP_UNSUPPORTED;
	if (eat_str(c, "qsThreadInfo"))
		return at_end(c) ? RSP_QUERY_NEXT_THREAD : RSP_UNSUPPORTED;
	if (eat_str(c, "qC"))
		return at_end(c) ? RSP_QUERY_CURRENT_THREAD : RSP_UNSUPPORTED;
	return RSP_UNSUPPORTED;
}

static enum rsp_kind parse(struct cursor *c, struct rsp_request *req, uint8_t *data, size_t size)
{
	uint64_t v;

	if (at_end(c))
		return RSP_UNSUPPORTED;
	switch (*c->p++) {
	case '?':
		return RSP_STOP_REASON;
	case 'g':
		return at_end(c) ? RSP_READ_REGS : RSP_MALFORMED;
	case 'G':
		return hex_data(c, data, size, &req->data_len) ? RSP_WRITE_REGS : RSP_MALFORMED;
	case 'p':
		if (!hex_u64(c, &v) || v > 255 || !at_end(c))
			return RSP_MALFORMED;
		req->reg = v;
		return RSP_READ_REG;
	case 'P':
		if (!hex_u64(c, &v) || v > 255 || !eat(c, '='))
			return RSP_MALFORMED;
		req->reg = v;
		return hex_data(c, data, size, &req->data_len) ? RSP_WRITE_REG : RSP_MALFORMED;
	case 'm':
		if (!hex_u64(c, &req->addr) || !eat(c, ',') || !hex_u32(c, &req->len) || !at_end(c))
			return RSP_MALFORMED;
		return RSP_READ_MEM;
	case 'M':
		if (!hex_u64(c, &req->addr) || !eat(c, ',') || !hex_u32(c, &req->len) ||
		    !eat(c, ':') || !hex_data(c, data, size, &req->data_len) ||
		    req->data_len != req->len)
			return RSP_MALFORMED;
		return RSP_WRITE_MEM;
	case 'Z':
	case 'z': {
		bool insert = c->p[-1] == 'Z';

		if (!hex_u64(c, &v) || v > 4 || !eat(c, ',') || !hex_u64(c, &req->addr) ||
		    !eat(c, ',') || !hex_u32(c, &req->len))
			return RSP_MALFORMED;
		/* ";cond" lists may follow: conditions stay gdb's to evaluate */
		if (!at_end(c) && *c->p != ';')
			return RSP_MALFORMED;
		req->type = v;
		return insert ? RSP_INSERT_BP : RSP_REMOVE_BP;
	}
	case 'c':
	case 's':
	case 'C':
	case 'S':
		c->p--;
		if (!resume_action(c, &req->action) || !at_end(c))
			return RSP_MALFORMED; /* a resume address: not offered */
		req->thread = RSP_ALL_THREADS;
		req->others = 0;
		return RSP_RESUME;
	case 'v':
		if (eat_str(c, "Cont?"))
			return at_end(c) ? RSP_VCONT_QUERY : RSP_UNSUPPORTED;
		if (eat_str(c, "Cont"))
			return parse_vcont(c, req);
		return RSP_UNSUPPORTED; /* vMustReplyEmpty, vKill, vFile, ... */
	case 'H':
		if (at_end(c) || (*c->p != 'g' && *c->p != 'c'))
			return RSP_MALFORMED;
		req->op = *c->p++;
		return thread_id(c, &req->thread) && at_end(c) ? RSP_SET_THREAD : RSP_MALFORMED;
	case 'T':
		return thread_id(c, &req->thread) && at_end(c) ? RSP_THREAD_ALIVE : RSP_MALFORMED;
	case 'k':
		return RSP_KILL;
	case 'D':
		return RSP_DETACH; /* "D;pid" too: there is one process */
	case 'q':
		c->p--;
		return parse_query(c, req);
	default:
		return RSP_UNSUPPORTED;
	}
}

enum rsp_kind rsp_parse(const char *pkt, size_t len, struct rsp_request *req, uint8_t *data,
			size_t size)
{
	struct cursor c = { pkt, pkt + len };

	memset(req, 0, sizeof(*req));
	req->kind = parse(&c, req, data, size);
	return req->kind;
}

size_t rsp_frame(char *out, size_t size, const char *payload, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	uint8_t sum = 0;

	if (size < 4 || len > size - 4)
		return 0;
	out[0] = '$';
	for (size_t i = 0; i < len; i++) {
		out[1 + i] = payload[i];
		sum += (uint8_t)payload[i];
	}
	out[1 + len] = '#';
	out[2 + len] = hex[sum >> 4];
	out[3 + len] = hex[sum & 15];
	return len + 4;
}

void rsp_hex_encode(char *out, const uint8_t *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
}
