// SPDX-License-Identifier: MIT
/*
 * hostile_guests: nothing a guest does can crash, hang or harm the host.
 * One table of hostile guests (FIXTURE_VARIANT_ADD below, one per case),
 * each run through the library with a bounded vcpu_run(), and each with a
 * defined result: the vcpu_run() class, a message in vcpu->why, the exact
 * console output (nothing written before the end is lost), the reports
 * the guest made and the host's counters. After every case the same
 * process dumps the dead vCPU and runs a well-behaved guest in a fresh VM,
 * so the host is shown to be unharmed.
 *
 * Where KVMs legitimately differ (a triple fault is KVM_EXIT_SHUTDOWN on
 * kvm_amd and kvm_intel, but may be KVM_EXIT_INTERNAL_ERROR where the
 * instruction emulator runs the guest, as on kvm_pvm), the test asserts
 * the class (VCPU_CRASHED), logs what this KVM said, and checks that the
 * crash hint fits what it said. Every guest's accesses to the empty bus
 * are counted from its own code; a guest started in protected mode needs
 * a KVM that runs protected mode (and skips elsewhere).
 *
 * Isolation (a guest writing all the memory it can reach while neighbours
 * run) is proved by vcpu_memory_isolation.c; the flood of a million
 * hypercalls is `make stress` (fuzz/guest_fuzz.c), not this test.
 */
#include "test_util.h"

#define REAL_MEM (256 << 10)
#define PROT_MEM (1 << 20)
#define PROT_LOAD 0x10000
#define FLOOD_CALLS 10000

/* After a call: report EAX under a tag. */
#define REPORT_EAX(tag) "mov %eax, %ecx\n mov $" #tag ", %ebx\n" HC(HC_REPORT)
/* One byte of output, so a test can see what was written before the end. */
#define SAY(c) "mov $" #c ", %bl\n" HC(HC_PUTCHAR)
#define WRITE(addr, len) "mov $" #addr ", %ebx\n mov $" #len ", %ecx\n" HC(HC_WRITE)
#define EXIT(status) "mov $" #status ", %ebx\n" HC(HC_EXIT) "hlt\n"
/* A real-mode guest's own data: DS = CS, offsets from its first byte. */
#define OFF(label, guest) "(" #label " - " #guest "_start)"

/*
 * Real mode, IDT limit 0: int3 faults, then #GP and #DF: a triple fault.
 * Loaded at 0, the guest's first bytes are the IVT a KVM would use if it
 * ignored the limit (kvm_pvm's emulator does): entries 3 and 6 point
 * into memory the guest does not have, so that is a crash as well.
 */
#define IVT_TRAPS "	jmp 1f\n .org 0xc\n .word 0, 0x8000\n .org 0x18\n .word 0, 0x8000\n1:\n"
GUEST_CODE(triple_fault, ".code16",
	IVT_TRAPS
	SAY('!')
	"	lidt " OFF(empty_idtr, triple_fault) "\n"
	"	int3\n"
	EXIT(0)
	"empty_idtr: .word 0\n .long 0\n");

GUEST_CODE(ud2_no_handler, ".code16",
	IVT_TRAPS
	SAY('!')
	"	lidt " OFF(empty_idtr2, ud2_no_handler) "\n"
	"	ud2\n"
	EXIT(0)
	"empty_idtr2: .word 0\n .long 0\n");

/* Flat protected mode, IDT at 0 over zeroed memory: no gate is present. */
GUEST_CODE(pm_ud2_no_handler, ".code32",
	SAY('!')
	"	ud2\n"
	EXIT(0));

/* 0x80000 lies beyond the guest's 256 KiB: nothing there to execute. */
GUEST_CODE(jump_unmapped, ".code16",
	SAY('!')
	"	ljmp $0x8000, $0\n");

GUEST_CODE(pm_jump_unmapped, ".code32",
	SAY('!')
	"	mov $0x40000000, %eax\n"
	"	jmp *%eax\n");

/* Unbacked guest-physical memory reads all-ones and drops writes. */
GUEST_CODE(mmio_read_write, ".code16",
	"	mov $0x8000, %ax\n mov %ax, %es\n"
	"	mov %es:0, %eax\n" REPORT_EAX(1)
	"	movzbl %es:0x10, %eax\n" REPORT_EAX(2)
	"	movl $0x12345678, %es:0\n"
	"	mov %es:0, %eax\n" REPORT_EAX(3)
	EXIT(0));

GUEST_CODE(mmio_write_first, ".code16",
	SAY('!')
	"	mov $0x8000, %ax\n mov %ax, %es\n"
	"	movl $0x12345678, %es:0\n"
	EXIT(0));

/* Ports with no device: the same empty bus. */
GUEST_CODE(port_unbacked, ".code16",
	"	in $0x80, %al\n movzbl %al, %eax\n" REPORT_EAX(1)
	"	mov $0x1234, %dx\n in (%dx), %ax\n movzwl %ax, %eax\n" REPORT_EAX(2)
	"	mov $0x1234, %dx\n in (%dx), %eax\n" REPORT_EAX(3)
	"	mov $0x42, %al\n out %al, $0x80\n"
	EXIT(0));

GUEST_CODE(infinite_loop, ".code16",
	SAY('!')
	"1:	jmp 1b\n");

/*
 * An endless stream of exits: the time limit must still be seen. ESI
 * counts the outs begun, so the host knows how many reached the bus.
 */
GUEST_CODE(exit_storm, ".code16",
	SAY('!')
	"1:	inc %esi\n"
	".globl exit_storm_out\n"
	"exit_storm_out: out %al, $0x80\n"
	"	jmp 1b\n");
extern const uint8_t exit_storm_out[];

GUEST_CODE(unknown_hypercall, ".code16",
	"	mov $0xff, %al\n mov $" XSTR(HC_PORT) ", %dx\n out %al, (%dx)\n" REPORT_EAX(1)
	"	mov $" XSTR(HC_NR_FUNCTIONS) ", %al\n mov $" XSTR(HC_PORT) ", %dx\n out %al, (%dx)\n"
	REPORT_EAX(2)
	"	mov $0x80, %al\n mov $" XSTR(HC_PORT) ", %dx\n out %al, (%dx)\n" REPORT_EAX(3)
	EXIT(0));

/*
 * HC_WRITE with every kind of bad buffer (REAL_MEM = 0x40000), a good one
 * that ends on the last byte of memory, then HC_EXIT out of range.
 */
GUEST_CODE(hypercall_bad_args, ".code16",
	WRITE(0, 0xffffffff) REPORT_EAX(1) /* too long */
	WRITE(0, 4097) REPORT_EAX(2) /* HC_WRITE_MAX + 1 */
	WRITE(0xffffffff, 1) REPORT_EAX(3) /* the top of the address space */
	WRITE(0xfffff800, 0x1000) REPORT_EAX(4) /* address + length wraps */
	WRITE(0x3ffff, 2) REPORT_EAX(5) /* straddles the end of memory */
	WRITE(0x40000, 1) REPORT_EAX(6) /* just past the end */
	WRITE(0x40000, 0) REPORT_EAX(7) /* nothing to write: nothing to check */
	"	mov $0x3000, %ax\n mov %ax, %es\n"
	"	movw $0x6e65, %es:0xfffd\n movb $'d', %es:0xffff\n"
	WRITE(0x3fffd, 3) REPORT_EAX(8) /* "end", the last 3 bytes of memory */
	EXIT(0xffffffff));

/* 10,000 PUTCHARs, byte n = n & 0xff; the count is data the host may patch. */
GUEST_CODE(hypercall_flood, ".code16",
	"	xor %esi, %esi\n"
	"1:	mov %esi, %ebx\n" HC(HC_PUTCHAR)
	"	inc %esi\n"
	"	cmpl %cs:" OFF(flood_count, hypercall_flood) ", %esi\n"
	"	jne 1b\n"
	EXIT(0)
	"flood_count: .long " XSTR(FLOOD_CALLS) "\n");

/* Two bytes of input, then 998 more reads past its end. */
GUEST_CODE(getchar_after_eof, ".code16",
	HC(HC_GETCHAR) REPORT_EAX(1)
	HC(HC_GETCHAR) REPORT_EAX(2)
	"	xor %edi, %edi\n mov $998, %si\n"
	"1:	" HC(HC_GETCHAR)
	"	cmp $-1, %eax\n jne 2f\n inc %edi\n"
	"2:	dec %si\n jnz 1b\n"
	"	mov %edi, %eax\n" REPORT_EAX(3)
	EXIT(0));

/* rep outsb of 300 HC_PUTCHAR bytes to the port: 300 calls. */
GUEST_CODE(outsb_hypercall_port, ".code16",
	"	cld\n mov %cs, %ax\n mov %ax, %es\n"
	"	mov $" OFF(buf, outsb_hypercall_port) ", %di\n mov $300, %cx\n"
	"	mov $" XSTR(HC_PUTCHAR) ", %al\n rep stosb\n"
	"	mov $'x', %ebx\n"
	"	mov $" OFF(buf, outsb_hypercall_port) ", %si\n mov $300, %cx\n"
	"	mov $" XSTR(HC_PORT) ", %dx\n rep outsb\n"
	EXIT(0)
	"buf:\n");

GUEST_CODE(insb_hypercall_port, ".code16",
	SAY('!')
	"	cld\n mov %cs, %ax\n mov %ax, %es\n"
	"	mov $" OFF(buf2, insb_hypercall_port) ", %di\n mov $4, %cx\n"
	"	mov $" XSTR(HC_PORT) ", %dx\n rep insb\n"
	EXIT(0)
	"buf2: .long 0\n");

GUEST_CODE(word_out_hypercall_port, ".code16",
	SAY('!')
	"	mov $" XSTR(HC_PUTCHAR) ", %ax\n mov $" XSTR(HC_PORT) ", %dx\n out %ax, (%dx)\n"
	EXIT(0));

GUEST_CODE(outsb_uart, ".code16",
	"	cld\n"
	"	mov $" OFF(msg, outsb_uart) ", %si\n mov $(msg_end - msg), %cx\n"
	"	mov $" XSTR(COM1_PORT) ", %dx\n rep outsb\n"
	EXIT(0)
	"msg: .ascii \"written to COM1 by rep outsb\\n\"\n msg_end:\n");

/* Three bytes of input, five read: the last two find none (RBR reads 0). */
GUEST_CODE(insb_uart, ".code16",
	"	cld\n mov %cs, %ax\n mov %ax, %es\n"
	"	mov $" XSTR(COM1_PORT) " + 5, %dx\n in (%dx), %al\n movzbl %al, %eax\n"
	REPORT_EAX(1)
	"	mov $" OFF(inbuf, insb_uart) ", %di\n mov $5, %cx\n"
	"	mov $" XSTR(COM1_PORT) ", %dx\n rep insb\n"
	"	mov $" XSTR(COM1_PORT) " + 5, %dx\n in (%dx), %al\n movzbl %al, %eax\n"
	REPORT_EAX(2)
	WRITE(inbuf - insb_uart_start, 5)
	EXIT(0)
	"inbuf: .fill 5, 1, 0x55\n");

/*
 * Real mode -> lgdt of garbage -> CR0.PE -> far jump. Loaded at 0x10000
 * (segment 0x1000), so the real-mode IDT left in place (0-0x3ff) holds
 * zeros, which protected mode reads as absent gates.
 */
GUEST_CODE(broken_gdt, ".code16",
	SAY('!')
	"	cli\n"
	"	lgdtl " OFF(gdtr, broken_gdt) "\n"
	"	mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
	"	ljmp $0x08, $0\n"
	EXIT(0)
	"gdtr: .word 0x17\n .long 0x10000 + " OFF(garbage, broken_gdt) "\n"
	"garbage: .quad 0x0123456789abcdef, 0xfedcba9876543210, 0x5555aaaa5555aaaa\n");

/*
 * The same, with the GDT in memory the guest does not have. KVM sends the
 * far jump to its instruction emulator, which cannot read a descriptor
 * from memory that has no slot, gives up without an exit or a fault, and
 * re-enters the guest at the same jump: it spins inside KVM_RUN for ever
 * (kvm_amd and kvm_pvm alike: the emulator is KVM's common code). Nothing
 * reaches user space, so the time limit is what ends it, and must.
 */
GUEST_CODE(gdt_outside_memory, ".code16",
	SAY('!')
	"	cli\n"
	"	lgdtl " OFF(gdtr2, gdt_outside_memory) "\n"
	"	mov %cr0, %eax\n or $1, %eax\n mov %eax, %cr0\n"
	"	ljmp $0x08, $0\n"
	EXIT(0)
	"gdtr2: .word 0xffff\n .long 0xfff00000\n");

/* The well-behaved guest every case ends with, in a fresh VM. */
GUEST_CODE(good_guest, ".code16", SAY('o') SAY('k') "hlt\n");

/*
 * The console: the test console's recording, plus a count of every byte
 * and a check of each one (the flood's bytes run 0, 1, ... 255, 0, ...).
 */
enum sink_check { SINK_TEXT, SINK_SEQUENCE, SINK_SAME };
struct sink {
	struct test_console tc; /* first: the input side uses it as opaque */
	enum sink_check check;
	uint8_t same;
	uint64_t bytes, bad;
};

static void sink_write(void *opaque, struct vcpu *vcpu, const void *buf, size_t len)
{
	struct sink *s = opaque;
	const uint8_t *p = buf;

	test_console_write(&s->tc, vcpu, buf, len);
	for (size_t i = 0; i < len; i++, s->bytes++)
		if ((s->check == SINK_SEQUENCE && p[i] != (uint8_t)s->bytes) ||
		    (s->check == SINK_SAME && p[i] != s->same))
			s->bad++;
}

FIXTURE(hostile) {
	struct sink sink;
};

FIXTURE_VARIANT(hostile) {
	const uint8_t *start, *end;
	bool protected_mode;
	uint16_t segment; /* real mode: where the code is loaded and entered */
	bool empty_bus_fatal;
	unsigned int timeout_ms; /* 0: TEST_RUN_TIMEOUT_MS */
	const char *input;
	/* What must come of it. */
	enum vcpu_result result;
	int exit_status; /* for VCPU_EXITED */
	const char *why; /* in vcpu->why; NULL: any message */
	const char *out; /* the console output, exactly (SINK_TEXT) */
	size_t out_len; /* when out holds NULs */
	enum sink_check check;
	uint8_t same;
	uint64_t out_bytes; /* SINK_SEQUENCE and SINK_SAME: how many */
	int nr_reports;
	uint32_t reports[8][2];
	int hc_fn, hc_count; /* stats.hypercalls[hc_fn] when hc_count */
	uint64_t empty_bus; /* accesses with no device behind them */
	bool empty_bus_in_esi; /* the guest counts them itself (exit_storm) */
};

#define CODE(name) .start = name##_start, .end = name##_end

FIXTURE_VARIANT_ADD(hostile, triple_fault) {
	CODE(triple_fault), .result = VCPU_CRASHED, .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, ud2_no_handler) {
	CODE(ud2_no_handler), .result = VCPU_CRASHED, .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, pm_ud2_no_handler) {
	CODE(pm_ud2_no_handler), .protected_mode = true, .result = VCPU_CRASHED, .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, jump_unmapped) {
	CODE(jump_unmapped), .result = VCPU_CRASHED, .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, pm_jump_unmapped) {
	CODE(pm_jump_unmapped), .protected_mode = true, .result = VCPU_CRASHED, .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, mmio_reads_ones_drops_writes) {
	CODE(mmio_read_write), .result = VCPU_EXITED, .why = "HC_EXIT 0", .out = "",
	.nr_reports = 3, .reports = { { 1, 0xffffffff }, { 2, 0xff }, { 3, 0xffffffff } },
	.empty_bus = 4, /* two reads, a write, a read */
};

FIXTURE_VARIANT_ADD(hostile, mmio_read_fatal) {
	CODE(mmio_read_write), .empty_bus_fatal = true, .result = VCPU_CRASHED,
	.why = "memory read at 0x80000: no device there", .out = "", .empty_bus = 1,
};

FIXTURE_VARIANT_ADD(hostile, mmio_write_fatal) {
	CODE(mmio_write_first), .empty_bus_fatal = true, .result = VCPU_CRASHED,
	.why = "memory write at 0x80000: no device there", .out = "!", .empty_bus = 1,
};

FIXTURE_VARIANT_ADD(hostile, port_reads_ones_drops_writes) {
	CODE(port_unbacked), .result = VCPU_EXITED, .why = "HC_EXIT 0", .out = "",
	.nr_reports = 3, .reports = { { 1, 0xff }, { 2, 0xffff }, { 3, 0xffffffff } },
	.empty_bus = 4, /* three ins, an out */
};

FIXTURE_VARIANT_ADD(hostile, port_read_fatal) {
	CODE(port_unbacked), .empty_bus_fatal = true, .result = VCPU_CRASHED,
	.why = "port read at 0x80: no device there", .out = "", .empty_bus = 1,
};

FIXTURE_VARIANT_ADD(hostile, infinite_loop) {
	CODE(infinite_loop), .timeout_ms = 300, .result = VCPU_TIMEOUT,
	.why = "time limit reached", .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, exit_storm) {
	CODE(exit_storm), .timeout_ms = 300, .result = VCPU_TIMEOUT,
	.why = "time limit reached", .out = "!", .empty_bus_in_esi = true,
};

FIXTURE_VARIANT_ADD(hostile, unknown_hypercall) {
	CODE(unknown_hypercall), .result = VCPU_EXITED, .why = "HC_EXIT 0", .out = "",
	.nr_reports = 3,
	.reports = { { 1, HC_ERR_NOSYS }, { 2, HC_ERR_NOSYS }, { 3, HC_ERR_NOSYS } },
	.hc_fn = HC_NR_FUNCTIONS, .hc_count = 3,
};

FIXTURE_VARIANT_ADD(hostile, hypercall_bad_args) {
	CODE(hypercall_bad_args), .result = VCPU_BAD_HYPERCALL,
	.why = "HC_EXIT status out of range 0-255 (0xffffffff)", .out = "end",
	.nr_reports = 8,
	.reports = { { 1, HC_ERR_INVAL }, { 2, HC_ERR_INVAL }, { 3, HC_ERR_FAULT },
		     { 4, HC_ERR_FAULT }, { 5, HC_ERR_FAULT }, { 6, HC_ERR_FAULT },
		     { 7, 0 }, { 8, 3 } },
	.hc_fn = HC_WRITE, .hc_count = 8,
};

FIXTURE_VARIANT_ADD(hostile, hypercall_flood) {
	CODE(hypercall_flood), .timeout_ms = 60000, .result = VCPU_EXITED,
	.why = "HC_EXIT 0", .check = SINK_SEQUENCE, .out_bytes = FLOOD_CALLS,
	.hc_fn = HC_PUTCHAR, .hc_count = FLOOD_CALLS,
};

FIXTURE_VARIANT_ADD(hostile, getchar_after_eof) {
	CODE(getchar_after_eof), .input = "ab", .result = VCPU_EXITED, .why = "HC_EXIT 0",
	.out = "", .nr_reports = 3, .reports = { { 1, 'a' }, { 2, 'b' }, { 3, 998 } },
	.hc_fn = HC_GETCHAR, .hc_count = 1000,
};

FIXTURE_VARIANT_ADD(hostile, rep_outsb_hypercall_port) {
	CODE(outsb_hypercall_port), .result = VCPU_EXITED, .why = "HC_EXIT 0",
	.check = SINK_SAME, .same = 'x', .out_bytes = 300,
	.hc_fn = HC_PUTCHAR, .hc_count = 300,
};

FIXTURE_VARIANT_ADD(hostile, rep_insb_hypercall_port) {
	CODE(insb_hypercall_port), .result = VCPU_BAD_HYPERCALL,
	.why = "port 0x500 takes byte writes only, got a read of size (0x1)", .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, word_out_hypercall_port) {
	CODE(word_out_hypercall_port), .result = VCPU_BAD_HYPERCALL,
	.why = "port 0x500 takes byte writes only, got a write of size (0x2)", .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, rep_outsb_uart) {
	CODE(outsb_uart), .result = VCPU_EXITED, .why = "HC_EXIT 0",
	.out = "written to COM1 by rep outsb\n",
};

FIXTURE_VARIANT_ADD(hostile, rep_insb_uart) {
	CODE(insb_uart), .input = "abc", .result = VCPU_EXITED, .why = "HC_EXIT 0",
	.out = "abc\0\0", .out_len = 5,
	.nr_reports = 2, .reports = { { 1, 0x61 }, { 2, 0x60 } }, /* LSR: DR, then not */
};

FIXTURE_VARIANT_ADD(hostile, broken_gdt) {
	CODE(broken_gdt), .segment = 0x1000, .result = VCPU_CRASHED, .out = "!",
};

FIXTURE_VARIANT_ADD(hostile, gdt_outside_memory) {
	CODE(gdt_outside_memory), .segment = 0x1000, .timeout_ms = 500, .result = VCPU_TIMEOUT,
	.why = "time limit reached", .out = "!",
};

FIXTURE_SETUP(hostile)
{
}

FIXTURE_TEARDOWN(hostile)
{
}

static struct vcpu *protected_mode_guest(const uint8_t *start, const uint8_t *end)
{
	struct guest_spec spec = {
		.mem_size = PROT_MEM,
		.mode = GUEST_PROTECTED,
		.image = start,
		.len = end - start,
		.load_gpa = PROT_LOAD,
		.stack = PROT_MEM,
	};

	return vm_create_with_one_vcpu(&spec);
}

static void attach_sink(struct vcpu *vcpu, struct sink *s, const char *input,
			enum sink_check check, uint8_t same)
{
	test_console_attach(vcpu, &s->tc, input);
	s->check = check;
	s->same = same;
	s->bytes = s->bad = 0;
	s->tc.ops.write = sink_write;
	s->tc.ops.opaque = s;
	vm_set_console(vcpu->vm, &s->tc.ops);
}

/*
 * What the hint after a crash must point at, by what ended the guest
 * (the start of vcpu->why): the first entry that matches.
 */
static const struct {
	const char *why, *hint;
} crash_hints[] = {
	{ "KVM_EXIT_SHUTDOWN", "triple fault" },
	{ "KVM_EXIT_INTERNAL_ERROR, suberror 1", "could not emulate an instruction" },
	{ "bad hypercall", "misused the hypercall port" },
	{ "memory ", "memory it was not given" },
	{ "port ", "a port with no device" },
};

static const char *expected_hint(const char *why)
{
	for (size_t i = 0; i < sizeof(crash_hints) / sizeof(crash_hints[0]); i++)
		if (!strncmp(why, crash_hints[i].why, strlen(crash_hints[i].why)))
			return crash_hints[i].hint;
	return "(no hint for this end)";
}

/*
 * The host after the hostile guest: its dump works, a crash gets the hint
 * that fits it, and a good guest runs.
 */
static void check_host_unharmed(struct __test_metadata *_metadata, struct vcpu *dead,
				enum vcpu_result result)
{
	struct test_console tc;
	struct vcpu *vcpu;
	char *dump = NULL;
	size_t dump_len = 0;
	FILE *f = open_memstream(&dump, &dump_len);

	ASSERT_NE(NULL, f);
	vcpu_dump(dead, f);
	fclose(f);
	EXPECT_NE(NULL, strstr(dump, "eip=")) TH_LOG("dump: %s", dump);
	free(dump);
	if (result == VCPU_CRASHED || result == VCPU_BAD_HYPERCALL) {
		const char *hint = vcpu_crash_hint(dead);

		EXPECT_NE(NULL, strstr(hint, expected_hint(dead->why)))
		TH_LOG("'%s' got the hint '%s'", dead->why, hint);
	}

	vcpu = test_real_mode_guest(REAL_MEM, 0, good_guest_start, good_guest_end);
	test_console_attach(vcpu, &tc, NULL);
	EXPECT_EQ(VCPU_HALTED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	EXPECT_STREQ("ok", tc.out);
	vm_destroy(vcpu->vm);
}

/*
 * exit_storm's outs that reached the bus: the ESI it counted them in,
 * less one when the time limit struck between its inc and its out (the
 * run ended on a kick, not an exit, with the guest at the out). After an
 * exit the out is on the bus, with RIP still on it until the next KVM_RUN.
 */
static uint64_t outs_done(struct vcpu *vcpu)
{
	uint64_t out_ip = exit_storm_out - exit_storm_start;
	struct kvm_regs regs;

	vcpu_regs_get(vcpu, &regs);
	return (uint32_t)regs.rsi -
	       (vcpu->run->exit_reason == KVM_EXIT_INTR && (regs.rip & 0xffff) == out_ip);
}

TEST_F_TIMEOUT(hostile, ends_as_defined, 90)
{
	struct sink *s = &self->sink;
	unsigned int timeout_ms = variant->timeout_ms ? variant->timeout_ms : TEST_RUN_TIMEOUT_MS;
	struct vcpu *vcpu;
	enum vcpu_result result;
	uint64_t t0, ms;

	if (variant->protected_mode) {
		TEST_REQUIRE(need_mode(KVM_MODE_PROTECTED));
		vcpu = protected_mode_guest(variant->start, variant->end);
	} else {
		vcpu = test_real_mode_guest(REAL_MEM, variant->segment, variant->start,
					    variant->end);
	}
	vcpu->vm->empty_bus_fatal = variant->empty_bus_fatal;
	attach_sink(vcpu, s, variant->input, variant->check, variant->same);

	t0 = now_ns();
	result = vcpu_run(vcpu, timeout_ms);
	ms = (now_ns() - t0) / 1000000;
	TH_LOG("%s after %llu ms: %s (last exit %s)", vcpu_result_name(result),
	       (unsigned long long)ms, vcpu->why, kvm_exit_reason_name(vcpu->run->exit_reason));

	ASSERT_EQ(variant->result, result) TH_LOG("expected %s", vcpu_result_name(variant->result));
	EXPECT_NE(0, vcpu->why[0]) TH_LOG("no message in vcpu->why");
	if (variant->why)
		EXPECT_NE(NULL, strstr(vcpu->why, variant->why)) TH_LOG("why: %s", vcpu->why);
	if (result == VCPU_EXITED)
		EXPECT_EQ(variant->exit_status, vcpu->exit_status);
	if (result == VCPU_TIMEOUT) {
		EXPECT_GE(ms + 1, variant->timeout_ms);
		EXPECT_LT(ms, variant->timeout_ms + 5000) TH_LOG("the time limit was late");
	}

	if (variant->check == SINK_TEXT) {
		size_t len = variant->out_len ? variant->out_len : strlen(variant->out);

		EXPECT_EQ(len, s->tc.len);
		EXPECT_EQ(0, memcmp(variant->out, s->tc.out, len)) TH_LOG("output: %s", s->tc.out);
	} else {
		EXPECT_EQ(variant->out_bytes, s->bytes) TH_LOG("bytes lost or added");
		EXPECT_EQ(0, s->bad) TH_LOG("bytes out of sequence");
	}

	EXPECT_EQ(variant->nr_reports, vcpu->nr_reports);
	for (int i = 0; i < vcpu->nr_reports && i < variant->nr_reports; i++) {
		EXPECT_EQ(variant->reports[i][0], vcpu->reports[i][0]);
		EXPECT_EQ(variant->reports[i][1], vcpu->reports[i][1])
			TH_LOG("report %u: 0x%x", vcpu->reports[i][0], vcpu->reports[i][1]);
	}
	if (variant->hc_count)
		EXPECT_EQ(variant->hc_count, vcpu->stats.hypercalls[variant->hc_fn]);
	EXPECT_EQ(variant->empty_bus_in_esi ? outs_done(vcpu) : variant->empty_bus,
		  vcpu->stats.empty_bus);

	check_host_unharmed(_metadata, vcpu, result);
	vm_destroy(vcpu->vm);
}

/*
 * A stop that comes before a vCPU's thread has run it (issue 19, item 3):
 * the kick neither signals a thread that is not there yet nor is lost;
 * the vCPU stops at once instead of running to its time limit.
 */
TEST(kick_before_the_first_run)
{
	struct vcpu *vcpu = test_real_mode_guest(REAL_MEM, 0, infinite_loop_start,
						 infinite_loop_end);

	vcpu_kick(vcpu);
	EXPECT_EQ(VCPU_STOPPED, vcpu_run(vcpu, TEST_RUN_TIMEOUT_MS)) TH_LOG("%s", vcpu->why);
	vm_destroy(vcpu->vm);
}

KVM_TEST_HARNESS_MAIN(need_mode(KVM_MODE_REAL))
