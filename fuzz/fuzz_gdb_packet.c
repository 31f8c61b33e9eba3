// SPDX-License-Identifier: MIT
/*
 * fuzz_gdb_packet: libFuzzer target for the gdb stub's untrusted input,
 * tools/mini-kvm-gdb-packet.c. The input is a byte stream as gdb (or anyone who
 * reaches the port) might send it: it goes through the frame decoder, and
 * each packet whose checksum matched through the request parser. The
 * input's payloads are also parsed directly, checksum or not, so that the
 * parser sees every shape and not only the ones with a right checksum.
 * ASan sees any byte read or written out of bounds; the checks abort when
 * a promise of the header is broken.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mini-kvm-gdb-packet.h"

#define check(ok)                                                                    \
	do {                                                                         \
		if (!(ok)) {                                                         \
			fprintf(stderr, "fuzz_gdb_packet: check failed: %s (line %d)\n", \
				#ok, __LINE__);                                      \
			abort();                                                     \
		}                                                                    \
	} while (0)

static void parse_one(const char *pkt, size_t len)
{
	/* The caller's buffer, sized as the stub sizes it, and a tiny one. */
	static uint8_t data[RSP_PACKET_MAX / 2];
	uint8_t small[4];
	struct rsp_request req;
	enum rsp_kind kind = rsp_parse(pkt, len, &req, data, sizeof(data));

	check(kind == req.kind);
	check(req.data_len <= sizeof(data));
	if (kind == RSP_WRITE_MEM)
		check(req.data_len == req.len);
	if (kind == RSP_INSERT_BP || kind == RSP_REMOVE_BP)
		check(req.type >= 0 && req.type <= 4);
	if (kind == RSP_RESUME)
		check(req.action == 'c' || req.action == 's');
	rsp_parse(pkt, len, &req, small, sizeof(small));
	check(req.data_len <= sizeof(small));
}

int LLVMFuzzerTestOneInput(const uint8_t *in, size_t size)
{
	static struct rsp_decoder d;
	char frame[64];
	char hex[2 * 16];

	rsp_decoder_init(&d);
	for (size_t i = 0; i < size; i++) {
		enum rsp_event ev = rsp_decode(&d, in[i]);

		check(d.len <= RSP_PACKET_MAX);
		if (ev == RSP_PACKET) {
			check(d.buf[d.len] == '\0');
			parse_one(d.buf, d.len);
		}
	}
	/* The raw input as one payload: copied, so ASan sees its exact end. */
	{
		char *copy = malloc(size ? size : 1);

		memcpy(copy, in, size);
		parse_one(copy, size);
		free(copy);
	}
	/* Framing never writes past its buffer and round-trips. */
	{
		size_t n = rsp_frame(frame, sizeof(frame), (const char *)in, size);

		check(size <= sizeof(frame) - 4 ? n == size + 4 : n == 0);
		rsp_decoder_init(&d);
		for (size_t i = 0; i < n; i++) {
			enum rsp_event ev = rsp_decode(&d, (uint8_t)frame[i]);

			/* a payload with '$' or '#' in it is no packet gdb sends */
			if (i == n - 1 && !memchr(in, '$', size) && !memchr(in, '#', size))
				check(ev == RSP_PACKET && d.len == size && !memcmp(d.buf, in, size));
		}
	}
	rsp_hex_encode(hex, in, size < 16 ? size : 16);
	return 0;
}
