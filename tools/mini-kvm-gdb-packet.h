/* SPDX-License-Identifier: MIT */
/*
 * gdb's Remote Serial Protocol, the pure half: framing bytes into packets
 * and packets into requests, and back. No I/O and no KVM here, so that a
 * fuzzer can feed it anything (fuzz/fuzz_gdb_packet.c). The stub that
 * acts on the requests is tools/mini-kvm-gdb.c.
 */
#ifndef MINI_KVM_GDB_PACKET_H
#define MINI_KVM_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The longest packet payload we take; qSupported tells gdb (in hex). */
#define RSP_PACKET_MAX 4096
#define RSP_PACKET_MAX_HEX "1000"

/* What one byte from gdb completed, if anything. */
enum rsp_event {
	RSP_NONE, /* consumed; nothing complete yet */
	RSP_PACKET, /* buf[0, len) is a packet whose checksum matched: ack '+' */
	RSP_BAD_PACKET, /* bad checksum, or longer than RSP_PACKET_MAX: nack '-' */
	RSP_INTERRUPT, /* 0x03 between packets: Ctrl-C */
	RSP_ACK, /* '+' */
	RSP_NACK, /* '-': resend the last reply */
};

struct rsp_decoder {
	int state;
	uint8_t sum; /* of the payload so far */
	uint8_t csum; /* the checksum digits read so far */
	bool overflow;
	size_t len;
	char buf[RSP_PACKET_MAX + 1]; /* NUL-terminated payload */
};

void rsp_decoder_init(struct rsp_decoder *d);
enum rsp_event rsp_decode(struct rsp_decoder *d, uint8_t byte);

/* The requests the stub answers; everything else gets an empty reply. */
enum rsp_kind {
	RSP_UNSUPPORTED, /* reply "" */
	RSP_MALFORMED, /* a known request with bad arguments: reply "E01" */
	RSP_STOP_REASON, /* ? */
	RSP_READ_REGS, /* g */
	RSP_WRITE_REGS, /* G data */
	RSP_READ_REG, /* p reg */
	RSP_WRITE_REG, /* P reg=data */
	RSP_READ_MEM, /* m addr,len */
	RSP_WRITE_MEM, /* M addr,len:data */
	RSP_INSERT_BP, /* Z type,addr,kind */
	RSP_REMOVE_BP, /* z type,addr,kind */
	RSP_RESUME, /* c, s, C sig, S sig, vCont;... : see action */
	RSP_VCONT_QUERY, /* vCont? */
	RSP_SET_THREAD, /* H op thread */
	RSP_THREAD_ALIVE, /* T thread */
	RSP_KILL, /* k */
	RSP_DETACH, /* D */
	RSP_QUERY_SUPPORTED, /* qSupported */
	RSP_QUERY_ATTACHED, /* qAttached */
	RSP_QUERY_CURRENT_THREAD, /* qC */
	RSP_QUERY_FIRST_THREAD, /* qfThreadInfo */
	RSP_QUERY_NEXT_THREAD, /* qsThreadInfo */
};

/* Thread ids as gdb writes them: -1 all, 0 any, else a vCPU's id + 1. */
#define RSP_ALL_THREADS (-1L)
#define RSP_ANY_THREAD 0L

struct rsp_request {
	enum rsp_kind kind;
	uint64_t addr; /* m, M, Z, z */
	uint32_t len; /* m, M; Z and z: the kind (breakpoint length) */
	int type; /* Z, z: 0 software, 1 hardware breakpoint, 2-4 watchpoints */
	int reg; /* p, P */
	char op; /* H: 'g' or 'c' */
	long thread; /* H, T; RSP_RESUME: the thread that does action */
	char action; /* RSP_RESUME: 's' step or 'c' continue */
	char others; /* RSP_RESUME: what the other threads do: 'c', or 0 (stay stopped) */
	size_t data_len; /* G, P, M: bytes decoded into the caller's buffer */
};

/*
 * Parses the payload pkt[0, len) into req; the data of G, P and M is
 * decoded into data[0, size). Returns req->kind. Never reads past len,
 * never writes past size.
 */
enum rsp_kind rsp_parse(const char *pkt, size_t len, struct rsp_request *req, uint8_t *data,
			size_t size);

/* "$payload#xx" into out; returns its length, or 0 when size is too small. */
size_t rsp_frame(char *out, size_t size, const char *payload, size_t len);

/* len bytes as 2*len lowercase hex digits (no NUL). */
void rsp_hex_encode(char *out, const uint8_t *in, size_t len);

#endif /* MINI_KVM_GDB_PACKET_H */
