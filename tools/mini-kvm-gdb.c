// SPDX-License-Identifier: MIT
/*
 * --gdb=PORT|PATH: a gdb remote stub for the guest (gdb's Remote Serial
 * Protocol; the framing and parsing are tools/mini-kvm-gdb-packet.c). One guest, one
 * gdb session; all-stop: when one vCPU stops, every vCPU stops.
 *
 * Threads. The stub's own thread owns the socket. Each vCPU thread runs
 * its vCPU and, when it stops (a step done, a breakpoint, a pause for an
 * all-stop), parks in gdb_vcpu_stop() until the stub resumes it; the stub
 * touches a vCPU's registers only while it is parked. The last vCPU to
 * park wakes the stub through a pipe, and so does the guest's end.
 *
 * The PC rule: gdb's PC ($eip, and every breakpoint address) is the
 * linear address CS.base + EIP, in every mode. A real-mode guest running
 * at CS = 0x20, IP = 5 is at $pc 0x205, which is what `break *0x205` and
 * an ELF symbol linked for the image's load address both mean. Memory
 * addresses are linear too: guest-physical with paging off, translated
 * with KVM_TRANSLATE (through the stopped vCPU's page tables) with it on.
 *
 * Software breakpoints (Z0) are an int3 (0xCC) written over the first
 * byte of the instruction, at the guest-physical address the linear one
 * maps to when gdb sets it; gdb takes them out at every stop, and z0
 * writes the byte back. While any is in, KVM_GUESTDBG_USE_SW_BP makes
 * every int3 exit: one at an address of ours is gdb's stop, any other is
 * the guest's own and goes back to it (KVM_GUESTDBG_INJECT_BP). That is
 * where a probe at start shows int3 exits (kvm_pvm has none); elsewhere
 * Z0 is kept like a hardware one.
 * Hardware breakpoints (Z1) write nothing. A KVM whose debug registers
 * deliver (probed at start: a VM runs two nops with DR0 on the second)
 * gets up to four in DR0-DR3; elsewhere (nested SVM under QEMU's TCG
 * drops DR hits), or with more than four, the vCPU single-steps and the PC
 * is compared with the list after every step. MINI_KVM_GDB_BP=step forces
 * the second way (tests).
 *
 * System calls after set-up, for a seccomp allow-list (the socket is
 * bound, listened on and accepted before any guest runs): on the stub's
 * thread poll, read, write (socket and pipe), close, futex; ioctl
 * KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS, KVM_TRANSLATE;
 * on the vCPU threads ioctl KVM_SET_GUEST_DEBUG and KVM_SET_REGS, tgkill
 * (the all-stop's pause), write (the pipe), futex, clock_gettime.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm-gdb-packet.h"
#include "mini-kvm.h"

#define GDB_MAX_BPS 64
#define GDB_NR_REGS 16 /* i386: eax ... gs, 4 bytes each */
#define GDB_SIGINT 2
#define GDB_SIGKILL 9
#define GDB_SIGSEGV 11
#define GDB_SIGTRAP 5
#define GDB_SIGALRM 14
#define BP_VECTOR 3
#define INT3 0xcc
#define CR0_PE 1u
#define CR0_PG 0x80000000u
/* How long a parked vCPU sleeps between looks at its stop flag and time limit. */
#define PARK_POLL_MS 100
/* How long the guest's end waits for gdb to take its W or X. */
#define END_GRACE_MS 3000

enum gdb_action {
	ACT_STAY, /* stay parked */
	ACT_STEP,
	ACT_CONT,
	ACT_FREE, /* run on without gdb: detached, or gdb went away */
};

struct gdb_vcpu {
	struct vcpu *vcpu;
	enum gdb_action action;
	bool parked;
	bool stepping_over; /* one step off a breakpoint before the DRs go on */
	bool dbg_set;
	bool inject_bp; /* the guest's own int3 goes back to it on the next run */
	struct kvm_guest_debug dbg; /* as last set */
};

/* An int3 of gdb's in guest memory, and the byte it covers. */
struct sw_bp {
	uint64_t addr; /* linear, as gdb gave it */
	uint64_t gpa;
	uint8_t saved;
};

static struct {
	bool enabled;
	int listen_fd, fd;
	char where[120]; /* what gdb types after "target remote " */
	char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int notify[2]; /* vCPU threads -> the stub's thread */
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int nr; /* vCPUs */
	struct vm *vm;
	struct gdb_vcpu v[VM_MAX_VCPUS];
	bool hw_bp; /* the debug registers deliver here */
	bool sw_bp; /* and so does an int3, with KVM_GUESTDBG_USE_SW_BP */
	bool blockirq; /* KVM_GUESTDBG_BLOCKIRQ: a step does not enter a handler */
	/* Breakpoints change only while every vCPU is parked. */
	int nr_bps; /* hardware (Z1) */
	uint64_t bps[GDB_MAX_BPS];
	int nr_sw; /* software (Z0) */
	struct sw_bp sw[GDB_MAX_BPS];
	uint64_t gen; /* bumped by each resume */
	int nr_parked;
	bool stopping; /* an all-stop is under way, or done */
	int stop_vcpu, stop_sig;
	bool free_when_stopped; /* gdb went away while the guest ran */
	bool killed, ended, end_sent;
	char end_reply[8];
	int cur_g; /* the vCPU of g, G, p, P, m, M (Hg) */
	int cur_c; /* the vCPU that s steps (Hc) */
	struct rsp_decoder dec;
	char pending[RSP_PACKET_MAX + 1]; /* a packet that came before the stop */
	size_t pending_len;
	bool has_pending;
	char reply[RSP_PACKET_MAX + 1]; /* the last one, for a '-' */
	size_t reply_len;
	uint8_t data[RSP_PACKET_MAX / 2];
} gdb = {
	.listen_fd = -1,
	.fd = -1,
	.notify = { -1, -1 },
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.cond = PTHREAD_COND_INITIALIZER,
};

bool gdb_enabled(void)
{
	return gdb.enabled;
}

bool gdb_killed(void)
{
	return __atomic_load_n(&gdb.killed, __ATOMIC_SEQ_CST);
}

static void unlink_socket(void)
{
	if (gdb.unix_path[0])
		unlink(gdb.unix_path);
}

/*
 * PORT (digits): TCP on 127.0.0.1 only; anything else: a Unix socket at
 * that path. Returns 0, or -1 with the reason in err.
 */
int gdb_listen(const char *where, char *err, size_t errlen)
{
	union {
		struct sockaddr sa;
		struct sockaddr_in in;
		struct sockaddr_un un;
	} addr = { 0 };
	socklen_t len;
	int one = 1, fd;

	if (where[strspn(where, "0123456789")] == '\0') {
		addr.in.sin_family = AF_INET;
		addr.in.sin_port = htons(atoi(where));
		addr.in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(addr.in);
		snprintf(gdb.where, sizeof(gdb.where), ":%s", where);
	} else {
		addr.un.sun_family = AF_UNIX;
		snprintf(addr.un.sun_path, sizeof(addr.un.sun_path), "%s", where);
		len = sizeof(addr.un);
		snprintf(gdb.where, sizeof(gdb.where), "%s", where);
	}
	fd = socket(addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "--gdb=%s: socket: %s", where, strerror(errno));
		return -1;
	}
	/* A connection of an earlier run in TIME_WAIT is no reason to fail. */
	if (addr.sa.sa_family == AF_INET)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, &addr.sa, len) || listen(fd, 1)) {
		snprintf(err, errlen, "--gdb=%s: cannot listen there: %s", where,
			 errno == EADDRINUSE ? "address already in use" : strerror(errno));
		close(fd);
		return -1;
	}
	if (addr.sa.sa_family == AF_UNIX) {
		snprintf(gdb.unix_path, sizeof(gdb.unix_path), "%s", where);
		atexit(unlink_socket);
	}
	gdb.listen_fd = fd;
	gdb.enabled = true;
	return 0;
}

/* ---- the probes: which debug exits does this KVM deliver? ---- */

/*
 * The probe guest at 0x100:0: a nop, the byte watched (linear 0x1001),
 * then HC_EXIT, so that a KVM without the exit ends the probe at once
 * (the guest's own #BP, through IVT vector 3, goes to the HC_EXIT too).
 */
/* clang-format off */
#define PROBE_CODE(watched) \
	{ 0x90, watched, 0xb0, HC_EXIT, 0xba, HC_PORT & 0xff, HC_PORT >> 8, 0xee }
/* clang-format on */

struct probe_run {
	int kvm_fd;
	const uint8_t *code; /* PROBE_CODE */
	struct kvm_guest_debug dbg;
	uint32_t exception; /* the KVM_EXIT_DEBUG it must give, at 0x1001 */
	bool works;
};

static void *probe_thread(void *arg)
{
	struct probe_run *p = arg;
	struct guest_spec spec = {
		.mem_size = 64 << 10,
		.mode = GUEST_REAL,
		.image = p->code,
		.len = 8,
		.load_gpa = 0x1000, /* CS = 0x100: the second byte is linear 0x1001 */
	};
	struct vcpu *vcpu;
	char err[200];
	int fd = fcntl(p->kvm_fd, F_DUPFD_CLOEXEC, 0);

	uint16_t vector3[2] = { 2, 0x100 }; /* IP, CS of the HC_EXIT */

	if (fd < 0 || __vm_create_with_one_vcpu(fd, &spec, &vcpu, err, sizeof(err)))
		return NULL;
	memcpy(vm_gpa_to_hva(vcpu->vm, 3 * 4, sizeof(vector3)), vector3, sizeof(vector3));
	if (!__vcpu_set_guest_debug(vcpu, &p->dbg) && vcpu_run(vcpu, 2000) == VCPU_DEBUG &&
	    !vcpu->paused && vcpu->run->debug.arch.exception == p->exception &&
	    vcpu->run->debug.arch.pc == 0x1001)
		p->works = true;
	vm_destroy(vcpu->vm);
	return NULL;
}

static bool probe(struct probe_run *p)
{
	pthread_t t;

	/* Its own thread: vcpu_run() makes the calling thread the vCPU's. */
	if (pthread_create(&t, NULL, probe_thread, p))
		return false;
	pthread_join(t, NULL);
	return p->works;
}

/* DR0 on the second of two nops: a #DB there (nested SVM under TCG has none). */
static bool probe_hw_bp(int kvm_fd)
{
	static const uint8_t code[] = PROBE_CODE(0x90); /* a nop */
	struct probe_run p = {
		.kvm_fd = kvm_fd,
		.code = code,
		.dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP,
		.dbg.arch.debugreg[0] = 0x1001,
		.dbg.arch.debugreg[7] = 0x602, /* G0, GE and the reserved bit 10 */
		.exception = 1,
	};
	const char *force = getenv("MINI_KVM_GDB_BP");

	return !(force && !strcmp(force, "step")) && probe(&p);
}

/* An int3 with KVM_GUESTDBG_USE_SW_BP: an exit at it (kvm_pvm gives none). */
static bool probe_sw_bp(int kvm_fd)
{
	static const uint8_t code[] = PROBE_CODE(INT3);
	struct probe_run p = {
		.kvm_fd = kvm_fd,
		.code = code,
		.dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP,
		.exception = BP_VECTOR,
	};

	return probe(&p);
}

/* ---- the socket ---- */

static void send_raw(const char *buf, size_t len)
{
	while (gdb.fd >= 0 && len) {
		ssize_t n = send(gdb.fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* gone: the next read says so */
		buf += n;
		len -= n;
	}
}

static void reply(const char *payload)
{
	gdb.reply_len = rsp_frame(gdb.reply, sizeof(gdb.reply), payload, strlen(payload));
	send_raw(gdb.reply, gdb.reply_len);
}

static void notify_stub(void)
{
	char c = 0;

	if (write(gdb.notify[1], &c, 1) < 0) {
		/* full: the stub has a wake-up waiting already */
	}
}

/*
 * Before the guest's first instruction: wait for gdb. The socket is
 * accepted here, during set-up, and not listened on after.
 */
void gdb_wait_client(int kvm_fd, bool real_mode, int nr_vcpus)
{
	int fd;

	gdb.hw_bp = probe_hw_bp(kvm_fd);
	gdb.sw_bp = probe_sw_bp(kvm_fd);
	gdb.blockirq = kvm_check_cap(kvm_fd, KVM_CAP_SET_GUEST_DEBUG2) & KVM_GUESTDBG_BLOCKIRQ;
	gdb.nr = nr_vcpus;
	fprintf(stderr, "mini-kvm: waiting for gdb on %s%s; in gdb type:%s target remote %s\n",
		gdb.unix_path[0] ? "" : "127.0.0.1", gdb.where,
		real_mode ? " set architecture i8086, then" : "", gdb.where);
	do
		fd = accept4(gdb.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		fprintf(stderr, "mini-kvm: --gdb: accept: %s\n", strerror(errno));
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
	close(gdb.listen_fd);
	gdb.listen_fd = -1;
	unlink_socket();
	gdb.unix_path[0] = '\0';
	gdb.fd = fd;
	if (pipe2(gdb.notify, O_CLOEXEC | O_NONBLOCK)) {
		fprintf(stderr, "mini-kvm: --gdb: pipe: %s\n", strerror(errno));
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
	/* Every vCPU parks before its first instruction: the stop gdb first sees. */
	gdb.stopping = true;
	gdb.stop_sig = GDB_SIGTRAP;
	rsp_decoder_init(&gdb.dec);
}

/* ---- a vCPU's state, as gdb sees it ---- */

static bool bp_at(uint64_t pc)
{
	for (int i = 0; i < gdb.nr_bps; i++)
		if (gdb.bps[i] == pc)
			return true;
	return false;
}

static int sw_bp_at(uint64_t pc)
{
	for (int i = 0; i < gdb.nr_sw; i++)
		if (gdb.sw[i].addr == pc)
			return i;
	return -1;
}

static uint64_t linear_pc(struct vcpu *vcpu)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;

	vcpu_regs_get(vcpu, &regs);
	vcpu_sregs_get(vcpu, &sregs);
	return (sregs.cs.base + regs.rip) & 0xffffffff;
}

/* What KVM_SET_GUEST_DEBUG must say for the vCPU's next run. */
static int configure(struct gdb_vcpu *gv)
{
	struct kvm_guest_debug dbg = { 0 };
	int ret;

	switch (gv->action) {
	case ACT_STEP:
		dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
		if (gdb.blockirq)
			dbg.control |= KVM_GUESTDBG_BLOCKIRQ;
		break;
	case ACT_CONT:
		if (!gdb.nr_bps)
			break; /* no hardware breakpoint to watch */
		if (!gdb.hw_bp || gdb.nr_bps > 4 || gv->stepping_over) {
			/* Interrupts stay on: a guest in hlt waits for one. */
			dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
			break;
		}
		dbg.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
		dbg.arch.debugreg[7] = 0x600; /* GE and the reserved bit 10 */
		for (int i = 0; i < gdb.nr_bps; i++) {
			/* RW = 00 (execution), LEN = 00: only the G bit */
			dbg.arch.debugreg[i] = gdb.bps[i];
			dbg.arch.debugreg[7] |= 2u << (2 * i);
		}
		break;
	default:
		break;
	}
	if (gdb.nr_sw && gv->action != ACT_FREE && gv->action != ACT_STAY)
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
	if (gv->inject_bp) {
		/* KVM queues the #BP at once: never skipped as unchanged */
		dbg.control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_INJECT_BP;
		gv->inject_bp = false;
	} else if (gv->dbg_set && !(dbg.control & KVM_GUESTDBG_SINGLESTEP) &&
		   !memcmp(&dbg, &gv->dbg, sizeof(dbg))) {
		return 0;
	}
	/*
	 * A step is armed again at every stop: KVM keeps its TF across a
	 * register write (a hypercall's result) only while RIP is where the
	 * last KVM_SET_GUEST_DEBUG found it, and the step would be lost.
	 */
	if (!gv->dbg_set && !dbg.control)
		return 0; /* never enabled: nothing to turn off */
	ret = __vcpu_set_guest_debug(gv->vcpu, &dbg);
	if (!ret) {
		gv->dbg = dbg;
		gv->dbg_set = true;
	}
	return ret;
}

/* The resume's first step: off a breakpoint it sits on, with the DRs off. */
static int start_action(struct gdb_vcpu *gv)
{
	gv->stepping_over = gv->action == ACT_CONT && gdb.nr_bps && gdb.hw_bp && gdb.nr_bps <= 4 &&
			    bp_at(linear_pc(gv->vcpu));
	return configure(gv);
}

/* Under the lock: stop every other vCPU, for an all-stop. */
static void pause_others(int except)
{
	for (int i = 0; i < gdb.nr; i++)
		if (i != except && gdb.v[i].vcpu && !gdb.v[i].parked)
			vcpu_pause(gdb.v[i].vcpu);
}

/*
 * Parks the vCPU until the stub resumes it. Returns false when gdb
 * killed the guest; true to run again (the run loop then ends at once
 * when the vCPU was stopped, or its time is up, while parked).
 */
static bool park(struct gdb_vcpu *gv)
{
	uint64_t gen = gdb.gen;
	bool killed;

	gv->parked = true;
	if (++gdb.nr_parked == gdb.nr)
		notify_stub();
	while (!gdb.killed && (gdb.gen == gen || gv->action == ACT_STAY)) {
		struct timespec ts;

		if (vcpu_should_stop(gv->vcpu))
			break;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += PARK_POLL_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&gdb.cond, &gdb.lock, &ts);
	}
	gv->parked = false;
	gdb.nr_parked--;
	killed = gdb.killed;
	pthread_mutex_unlock(&gdb.lock);
	/* A pause of the all-stop that found it parked already is stale now. */
	__atomic_store_n(&gv->vcpu->pause, 0, __ATOMIC_SEQ_CST);
	if (killed)
		return false;
	if (start_action(gv))
		fprintf(stderr, "mini-kvm: --gdb: vCPU %d: %s\n", gv->vcpu->id,
			gv->vcpu->vm->error);
	return true;
}

/* On a vCPU thread, before its first instruction. */
bool gdb_vcpu_start(struct vcpu *vcpu)
{
	struct gdb_vcpu *gv = &gdb.v[vcpu->id];

	pthread_mutex_lock(&gdb.lock);
	gv->vcpu = vcpu;
	gdb.vm = vcpu->vm;
	return park(gv);
}

/*
 * On a vCPU thread, when vcpu_run() returned VCPU_DEBUG: a step done, a
 * breakpoint, or a pause. Returns false when gdb killed the guest.
 */
bool gdb_vcpu_stop(struct vcpu *vcpu)
{
	struct gdb_vcpu *gv = &gdb.v[vcpu->id];
	int sig = 0; /* 0: no stop of its own (a pause) */

	if (!vcpu->paused && vcpu->run->debug.arch.exception == BP_VECTOR) {
		if (sw_bp_at(linear_pc(vcpu)) < 0) {
			gv->inject_bp = true; /* the guest's own int3 */
			if (configure(gv))
				fprintf(stderr, "mini-kvm: --gdb: vCPU %d: %s\n", vcpu->id,
					vcpu->vm->error);
			return true;
		}
		sig = GDB_SIGTRAP;
	} else if (!vcpu->paused) {
		switch (gv->action) {
		case ACT_STEP:
			sig = GDB_SIGTRAP;
			break;
		case ACT_CONT:
			if (gdb.hw_bp && gdb.nr_bps <= 4 && !gv->stepping_over) {
				sig = GDB_SIGTRAP; /* a DR hit */
				break;
			}
			gv->stepping_over = false;
			if (bp_at(linear_pc(vcpu))) {
				sig = GDB_SIGTRAP;
				break;
			}
			/* Not there yet: on, by the next step or with the DRs. */
			if (configure(gv))
				fprintf(stderr, "mini-kvm: --gdb: vCPU %d: %s\n", vcpu->id,
					vcpu->vm->error);
			return true;
		default:
			configure(gv); /* a late exit of a mode left behind */
			return true;
		}
	}
	pthread_mutex_lock(&gdb.lock);
	if (sig && !gdb.stopping) {
		gdb.stopping = true;
		gdb.stop_vcpu = vcpu->id;
		gdb.stop_sig = sig;
		pause_others(vcpu->id);
	} else if (!gdb.stopping) {
		pthread_mutex_unlock(&gdb.lock);
		return true; /* a pause that outlived its all-stop */
	}
	return park(gv);
}

/*
 * On a vCPU thread whose wait for input a pause cut short (the guest's
 * HC_GETCHAR, at a shell prompt): the all-stop parks it there, in the
 * middle of its hypercall, and the wait goes on after. Returns false when
 * gdb killed the guest (the vCPU is stopped then).
 */
bool gdb_vcpu_park_in_wait(struct vcpu *vcpu)
{
	__atomic_store_n(&vcpu->pause, 0, __ATOMIC_SEQ_CST);
	vcpu->paused = true;
	if (gdb_vcpu_stop(vcpu))
		return true;
	vcpu_kick(vcpu);
	return false;
}

/* On the guest's thread, once it ended: W or X for gdb, if it is there. */
void gdb_guest_ended(struct guest *g)
{
	struct timespec ts;
	int status = g->result == VCPU_EXITED ? g->vcpu->exit_status & 0xff : 0;

	pthread_mutex_lock(&gdb.lock);
	switch (g->result) {
	case VCPU_HALTED:
	case VCPU_EXITED:
		snprintf(gdb.end_reply, sizeof(gdb.end_reply), "W%02x", status);
		break;
	case VCPU_TIMEOUT:
		snprintf(gdb.end_reply, sizeof(gdb.end_reply), "X%02x", GDB_SIGALRM);
		break;
	case VCPU_STOPPED:
		snprintf(gdb.end_reply, sizeof(gdb.end_reply), "X%02x", GDB_SIGKILL);
		break;
	default:
		snprintf(gdb.end_reply, sizeof(gdb.end_reply), "X%02x", GDB_SIGSEGV);
		break;
	}
	gdb.ended = true;
	notify_stub();
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += END_GRACE_MS / 1000;
	while (!gdb.end_sent && gdb.fd >= 0)
		if (pthread_cond_timedwait(&gdb.cond, &gdb.lock, &ts))
			break;
	pthread_mutex_unlock(&gdb.lock);
}

/* ---- registers ---- */

static void put32(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = v >> (8 * i);
}

static uint32_t get32(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* i386 order: eax ecx edx ebx esp ebp esi edi eip eflags cs ss ds es fs gs. */
static void read_regs(struct vcpu *vcpu, uint8_t out[GDB_NR_REGS * 4])
{
	struct kvm_regs r;
	struct kvm_sregs s;
	uint64_t w[GDB_NR_REGS];

	vcpu_regs_get(vcpu, &r);
	vcpu_sregs_get(vcpu, &s);
	w[0] = r.rax, w[1] = r.rcx, w[2] = r.rdx, w[3] = r.rbx;
	w[4] = r.rsp, w[5] = r.rbp, w[6] = r.rsi, w[7] = r.rdi;
	w[8] = s.cs.base + r.rip; /* the PC rule */
	w[9] = r.rflags;
	w[10] = s.cs.selector, w[11] = s.ss.selector, w[12] = s.ds.selector;
	w[13] = s.es.selector, w[14] = s.fs.selector, w[15] = s.gs.selector;
	for (int i = 0; i < GDB_NR_REGS; i++)
		put32(out + 4 * i, w[i]);
}

static void set_real_segment(struct kvm_segment *seg, uint32_t sel)
{
	seg->selector = sel & 0xffff;
	seg->base = (sel & 0xffff) << 4;
}

/* regs[i] for the registers in mask; segments change in real mode only. */
static void write_regs(struct vcpu *vcpu, const uint32_t *v, uint32_t mask)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	__u64 *gpr[8] = { &r.rax, &r.rcx, &r.rdx, &r.rbx, &r.rsp, &r.rbp, &r.rsi, &r.rdi };
	struct kvm_segment *seg[6] = { &s.cs, &s.ss, &s.ds, &s.es, &s.fs, &s.gs };
	bool sregs_changed = false;

	vcpu_regs_get(vcpu, &r);
	vcpu_sregs_get(vcpu, &s);
	for (int i = 0; i < 8; i++)
		if (mask & 1u << i)
			*gpr[i] = v[i];
	if (mask & 1u << 9)
		r.rflags = v[9] | 2;
	if (!(s.cr0 & CR0_PE))
		for (int i = 0; i < 6; i++)
			if (mask & 1u << (10 + i) && seg[i]->selector != (v[10 + i] & 0xffff)) {
				set_real_segment(seg[i], v[10 + i]);
				sregs_changed = true;
			}
	/* After CS: the PC is linear, so EIP is what is left of it. */
	if (mask & 1u << 8)
		r.rip = (uint32_t)(v[8] - s.cs.base);
	if (sregs_changed)
		vcpu_sregs_set(vcpu, &s);
	vcpu_regs_set(vcpu, &r);
}

/* ---- memory ---- */

/*
 * Where [addr, addr + len) of the guest is, within one page: the host
 * address, and the guest-physical one in *gpa. Linear addresses are
 * guest-physical with paging off, translated by vcpu's page tables with
 * it on. NULL when the range is not guest memory.
 */
static uint8_t *linear_to_hva(struct vcpu *vcpu, uint64_t addr, uint64_t *gpa, uint32_t len)
{
	struct kvm_sregs s;

	if (addr > 0xffffffffull)
		return NULL;
	*gpa = addr;
	vcpu_sregs_get(vcpu, &s);
	if ((s.cr0 & CR0_PG) && __vcpu_translate(vcpu, addr, gpa))
		return NULL;
	return vm_gpa_to_hva(vcpu->vm, *gpa, len);
}

/* Linear [addr, addr + len) of the guest, as vcpu sees it. Returns 0 or -EFAULT. */
static int guest_memory(struct vcpu *vcpu, uint64_t addr, uint8_t *buf, uint32_t len, bool write)
{
	struct kvm_sregs s;
	bool paging;

	if (addr > 0xffffffffull || len > 0x100000000ull - addr)
		return -EFAULT;
	vcpu_sregs_get(vcpu, &s);
	paging = s.cr0 & CR0_PG;
	return write ? vcpu_write_guest(vcpu, addr, buf, len, paging)
		     : vcpu_read_guest(vcpu, addr, buf, len, paging);
}

/* ---- requests ---- */

static struct vcpu *thread_vcpu(long thread, int fallback)
{
	if (thread > 0 && thread <= gdb.nr)
		return gdb.v[thread - 1].vcpu;
	return gdb.v[fallback].vcpu;
}

static void stop_reply(void)
{
	char buf[40];

	snprintf(buf, sizeof(buf), "T%02xthread:%x;", gdb.stop_sig, gdb.stop_vcpu + 1);
	reply(buf);
}

static void reply_hex(const uint8_t *data, size_t len)
{
	char *buf = malloc(2 * len + 1);

	if (!buf) {
		reply("E0c");
		return;
	}
	rsp_hex_encode(buf, data, len);
	buf[2 * len] = '\0';
	reply(buf);
	free(buf);
}

/* Z0: an int3 over the byte at linear addr, as vcpu's page tables map it. */
static void insert_sw_bp(struct vcpu *vcpu, uint64_t addr)
{
	struct sw_bp *bp = &gdb.sw[gdb.nr_sw];
	uint8_t *hva;

	if (sw_bp_at(addr) >= 0) {
		reply("OK");
		return;
	}
	if (gdb.nr_sw == GDB_MAX_BPS) {
		reply("E0c");
		return;
	}
	bp->addr = addr;
	hva = linear_to_hva(vcpu, addr, &bp->gpa, 1);
	if (!hva) {
		reply("E14");
		return;
	}
	bp->saved = *hva;
	*hva = INT3;
	gdb.nr_sw++;
	reply("OK");
}

/* The byte back, where it was: the page tables may have changed since. */
static void remove_sw_bp(int i)
{
	uint8_t *hva = vm_gpa_to_hva(gdb.vm, gdb.sw[i].gpa, 1);

	if (hva && *hva == INT3)
		*hva = gdb.sw[i].saved;
	gdb.sw[i] = gdb.sw[--gdb.nr_sw];
}

static void insert_bp(uint64_t addr)
{
	if (bp_at(addr)) {
		reply("OK");
	} else if (gdb.nr_bps == GDB_MAX_BPS || addr > 0xffffffffull) {
		reply("E0c");
	} else {
		gdb.bps[gdb.nr_bps++] = addr;
		reply("OK");
	}
}

static void remove_bp(uint64_t addr)
{
	for (int i = 0; i < gdb.nr_bps; i++)
		if (gdb.bps[i] == addr) {
			gdb.bps[i] = gdb.bps[--gdb.nr_bps];
			break;
		}
}

/* Under the lock, every vCPU parked: send them on their way. */
static void resume(enum gdb_action def, int one, enum gdb_action act)
{
	for (int i = 0; i < gdb.nr; i++)
		gdb.v[i].action = i == one ? act : def;
	gdb.stopping = false;
	gdb.gen++;
	pthread_cond_broadcast(&gdb.cond);
}

static enum gdb_action action_of(char c)
{
	return c == 's' ? ACT_STEP : c == 'c' ? ACT_CONT : ACT_STAY;
}

/* gdb has gone (D, or the connection closed): the guest runs on alone. */
static void set_free(void)
{
	gdb.nr_bps = 0;
	while (gdb.nr_sw)
		remove_sw_bp(0); /* gdb may have gone with its int3s in */
	resume(ACT_FREE, -1, ACT_FREE);
	close(gdb.fd);
	gdb.fd = -1;
	pthread_cond_broadcast(&gdb.cond);
}

/* gdb acks the last reply, then closes: a socket closed first breaks its pipe. */
static void wait_for_close(void)
{
	struct pollfd pfd = { .fd = gdb.fd, .events = POLLIN };
	char buf[256];

	while (poll(&pfd, 1, END_GRACE_MS) > 0 && read(gdb.fd, buf, sizeof(buf)) > 0)
		;
}

/* One packet, with every vCPU parked. Returns true when the guest runs again. */
static bool handle_packet(const char *pkt, size_t len)
{
	struct rsp_request req;
	struct vcpu *vg = thread_vcpu(gdb.cur_g + 1, gdb.stop_vcpu);
	uint8_t regs[GDB_NR_REGS * 4];
	char buf[64];

	switch (rsp_parse(pkt, len, &req, gdb.data, sizeof(gdb.data))) {
	case RSP_UNSUPPORTED:
		reply("");
		break;
	case RSP_MALFORMED:
		reply("E01");
		break;
	case RSP_STOP_REASON:
		stop_reply();
		break;
	case RSP_READ_REGS:
		read_regs(vg, regs);
		reply_hex(regs, sizeof(regs));
		break;
	case RSP_WRITE_REGS: {
		uint32_t v[GDB_NR_REGS];

		if (req.data_len < sizeof(regs)) {
			reply("E01");
			break;
		}
		for (int i = 0; i < GDB_NR_REGS; i++)
			v[i] = get32(gdb.data + 4 * i);
		write_regs(vg, v, (1u << GDB_NR_REGS) - 1);
		reply("OK");
		break;
	}
	case RSP_READ_REG:
		if (req.reg >= GDB_NR_REGS) {
			reply(""); /* the x87 and SSE registers: none here */
			break;
		}
		read_regs(vg, regs);
		reply_hex(regs + 4 * req.reg, 4);
		break;
	case RSP_WRITE_REG: {
		uint32_t v[GDB_NR_REGS] = { 0 };

		if (req.reg >= GDB_NR_REGS) {
			reply("");
			break;
		}
		if (req.data_len != 4) {
			reply("E01");
			break;
		}
		v[req.reg] = get32(gdb.data);
		write_regs(vg, v, 1u << req.reg);
		reply("OK");
		break;
	}
	case RSP_READ_MEM:
		if (req.len > sizeof(gdb.data) - 1)
			req.len = sizeof(gdb.data) - 1; /* a short read is allowed */
		if (guest_memory(vg, req.addr, gdb.data, req.len, false))
			reply("E14");
		else
			reply_hex(gdb.data, req.len);
		break;
	case RSP_WRITE_MEM:
		reply(guest_memory(vg, req.addr, gdb.data, req.len, true) ? "E14" : "OK");
		break;
	case RSP_INSERT_BP:
		if (req.type > 1)
			reply(""); /* watchpoints: not offered */
		else if (req.type == 0 && gdb.sw_bp)
			insert_sw_bp(vg, req.addr);
		else
			insert_bp(req.addr);
		break;
	case RSP_REMOVE_BP:
		if (req.type > 1) {
			reply("");
			break;
		}
		if (req.type == 0 && sw_bp_at(req.addr) >= 0)
			remove_sw_bp(sw_bp_at(req.addr));
		else if (req.type == 1 || !gdb.sw_bp)
			remove_bp(req.addr);
		reply("OK");
		break;
	case RSP_RESUME: {
		int one = req.thread > 0 && req.thread <= gdb.nr ? req.thread - 1 : -1;

		if (pkt[0] != 'v') {
			/* c: every vCPU; s: the Hc one alone */
			if (req.action == 's')
				resume(ACT_STAY, gdb.cur_c, ACT_STEP);
			else
				resume(ACT_CONT, -1, ACT_CONT);
		} else if (one < 0) {
			resume(action_of(req.action), -1, ACT_STAY);
		} else {
			resume(action_of(req.others), one, action_of(req.action));
		}
		return true;
	}
	case RSP_VCONT_QUERY:
		reply("vCont;c;C;s;S");
		break;
	case RSP_SET_THREAD:
		if (req.thread > gdb.nr) {
			reply("E01");
			break;
		}
		if (req.thread > 0 && req.op == 'g')
			gdb.cur_g = req.thread - 1;
		else if (req.thread > 0)
			gdb.cur_c = req.thread - 1;
		reply("OK");
		break;
	case RSP_THREAD_ALIVE:
		reply(req.thread > 0 && req.thread <= gdb.nr ? "OK" : "E01");
		break;
	case RSP_KILL:
		__atomic_store_n(&gdb.killed, true, __ATOMIC_SEQ_CST);
		resume(ACT_STAY, -1, ACT_STAY);
		return true;
	case RSP_DETACH:
		reply("OK");
		wait_for_close();
		set_free();
		return true;
	case RSP_QUERY_SUPPORTED:
		reply("PacketSize=" RSP_PACKET_MAX_HEX);
		break;
	case RSP_QUERY_ATTACHED:
		reply("1");
		break;
	case RSP_QUERY_CURRENT_THREAD:
		snprintf(buf, sizeof(buf), "QC%x", gdb.cur_g + 1);
		reply(buf);
		break;
	case RSP_QUERY_FIRST_THREAD: {
		char *p = buf + snprintf(buf, sizeof(buf), "m");

		for (int i = 0; i < gdb.nr; i++)
			p += snprintf(p, buf + sizeof(buf) - p, "%s%x", i ? "," : "", i + 1);
		reply(buf);
		break;
	}
	case RSP_QUERY_NEXT_THREAD:
		reply("l");
		break;
	}
	return false;
}

/* The stub's thread: the socket, and the vCPUs' wake-ups. */
static void *stub_thread(void *arg)
{
	bool running = true; /* until every vCPU has parked */
	uint8_t in[1024];

	(void)arg;
	for (;;) {
		struct pollfd pfd[2] = {
			{ .fd = gdb.fd, .events = POLLIN },
			{ .fd = gdb.notify[0], .events = POLLIN },
		};
		ssize_t n;

		if (poll(pfd, 2, -1) < 0)
			continue;
		if (pfd[1].revents) {
			while (read(gdb.notify[0], in, sizeof(in)) > 0)
				;
			pthread_mutex_lock(&gdb.lock);
			if (gdb.ended) {
				if (gdb.fd >= 0 && !gdb.killed) {
					reply(gdb.end_reply);
					wait_for_close(); /* gdb closes once it has the end */
				}
				gdb.end_sent = true;
				pthread_cond_broadcast(&gdb.cond);
				pthread_mutex_unlock(&gdb.lock);
				return NULL;
			}
			if (running && gdb.nr_parked == gdb.nr && gdb.stopping) {
				running = false;
				if (gdb.free_when_stopped) {
					set_free();
					pthread_mutex_unlock(&gdb.lock);
					return NULL;
				}
				gdb.cur_g = gdb.cur_c = gdb.stop_vcpu;
				/* The first stop is asked for with '?', the others told. */
				if (gdb.gen)
					stop_reply();
				if (gdb.has_pending) {
					gdb.has_pending = false;
					running = handle_packet(gdb.pending, gdb.pending_len);
					if (running && gdb.fd < 0) {
						pthread_mutex_unlock(&gdb.lock);
						return NULL;
					}
				}
			}
			pthread_mutex_unlock(&gdb.lock);
		}
		if (!pfd[0].revents)
			continue;
		n = read(gdb.fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		pthread_mutex_lock(&gdb.lock);
		if (n <= 0) {
			/* gdb went away: the guest runs on, without breakpoints */
			if (!running) {
				set_free();
			} else {
				gdb.free_when_stopped = true;
				close(gdb.fd);
				gdb.fd = -1;
				if (!gdb.stopping) {
					gdb.stopping = true;
					gdb.stop_sig = GDB_SIGINT;
					pause_others(-1);
				}
				pthread_mutex_unlock(&gdb.lock);
				continue; /* on to the all-stop, then set_free() */
			}
			pthread_mutex_unlock(&gdb.lock);
			return NULL;
		}
		for (ssize_t i = 0; i < n; i++) {
			switch (rsp_decode(&gdb.dec, in[i])) {
			case RSP_PACKET:
				send_raw("+", 1);
				if (running) {
					/* gdb's first packets may come before every vCPU parked */
					memcpy(gdb.pending, gdb.dec.buf, gdb.dec.len + 1);
					gdb.pending_len = gdb.dec.len;
					gdb.has_pending = true;
					break;
				}
				if (handle_packet(gdb.dec.buf, gdb.dec.len)) {
					running = true;
					if (gdb.fd < 0) {
						pthread_mutex_unlock(&gdb.lock);
						return NULL;
					}
				}
				break;
			case RSP_BAD_PACKET:
				send_raw("-", 1);
				break;
			case RSP_NACK:
				send_raw(gdb.reply, gdb.reply_len);
				break;
			case RSP_INTERRUPT:
				if (running && !gdb.stopping) {
					gdb.stopping = true;
					gdb.stop_vcpu = 0;
					gdb.stop_sig = GDB_SIGINT;
					pause_others(-1);
				}
				break;
			default:
				break;
			}
		}
		pthread_mutex_unlock(&gdb.lock);
	}
}

void gdb_start(void)
{
	if (pthread_create(&gdb.thread, NULL, stub_thread, NULL)) {
		fprintf(stderr, "mini-kvm: --gdb: cannot start the stub's thread\n");
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
	pthread_detach(gdb.thread);
}
