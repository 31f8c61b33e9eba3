// SPDX-License-Identifier: MIT
/*
 * mini-kvm: the command. Runs up to four guests at once, each in its own
 * VM (the unit of isolation, see DESIGN.md) with one vCPU on its own
 * thread, while the main thread waits for them and for SIGINT/SIGTERM.
 *
 * Output: one guest's bytes go to stdout unchanged; several guests' lines
 * are prefixed with "name| " and written whole, one write() each, so they
 * never interleave mid-line. Input: stdin belongs to the first guest only.
 * See docs/mini-kvm.md for the user's view.
 */
#include <ctype.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm.h"

#define MINI_KVM_VERSION "0.1.0"
/* Guest RAM lives at GPA 0 and must stay clear of KVM's TSS below 4 GiB. */
#define MEM_MAX (3ull << 30)
#define REAL_MEM_DEFAULT (256ull << 10)
#define PROT_MEM_DEFAULT (16ull << 20)
#define LINUX_MEM_DEFAULT (256ull << 20) /* Debian's kernel and a small initramfs */
#define IMAGE_HEAD 0x206 /* enough to tell an ELF (its magic) and a bzImage ("HdrS") */
/* A flat image in protected mode goes where multiboot kernels live. */
#define PROT_FLAT_LOAD 0x100000u
/* How long a stop may take before we leave without the vCPU thread. */
#define STOP_GRACE_MS 2000

enum mode { MODE_AUTO, MODE_REAL, MODE_PROTECTED };

struct builtin {
	const char *name;
	const char *desc;
	const uint8_t *start, *end;
};

/*
 * Weak: the Makefile embeds whatever images it built, and an image that
 * is missing (the 1K OS not built yet) simply leaves its address NULL.
 */
#define BUILTIN_SYMS(n)                                                 \
	extern const uint8_t guest_##n##_start[] __attribute__((weak)), \
		guest_##n##_end[] __attribute__((weak))
BUILTIN_SYMS(os1k);
BUILTIN_SYMS(minimal);
BUILTIN_SYMS(hello);
BUILTIN_SYMS(counter);
BUILTIN_SYMS(multiplication);
BUILTIN_SYMS(fibonacci);
BUILTIN_SYMS(matrix);
BUILTIN_SYMS(hctest);
BUILTIN_SYMS(segments);

/* A new guests/real/NAME.S needs its line here, with what it does. */
#define BUILTIN(n, d)                                     \
	{                                                 \
#n, d, guest_##n##_start, guest_##n##_end \
	}
static const struct builtin builtins[] = {
	BUILTIN(os1k, "the 1K OS: protected-mode kernel, ring-3 shell and programs (ELF)"),
	BUILTIN(minimal, "a single hlt: ends at once and prints nothing"),
	BUILTIN(hello, "prints \"Hello, KVM!\" with one HC_WRITE"),
	BUILTIN(counter, "counts from 0 to 9, one number a line"),
	BUILTIN(multiplication, "the times tables from 2 to 9 as one table"),
	BUILTIN(fibonacci, "the Fibonacci numbers below 65536"),
	BUILTIN(matrix, "multiplies two signed 4x4 integer matrices"),
	BUILTIN(hctest, "tests every hypercall, echoes stdin; exit status = lines read"),
	BUILTIN(segments, "runs at CS=0x20 and takes its own int3 (for trying --gdb)"),
};
#define NR_BUILTINS (sizeof(builtins) / sizeof(builtins[0]))

const char *const hypercall_names[HC_NR_FUNCTIONS + 1] = {
	"HC_EXIT",   "HC_PUTCHAR", "HC_GETCHAR", "HC_WRITE",
	"HC_REPORT", "HC_VERSION", "HC_SYNC",	 "unknown",
};
_Static_assert(HC_NR_FUNCTIONS == 7, "name the new hypercalls above");

static const char *const colors[MAX_GUESTS] = {
	"\033[36m",
	"\033[33m",
	"\033[35m",
	"\033[32m",
};

static struct {
	enum mode mode;
	uint64_t mem; /* 0: the mode's default */
	unsigned int timeout_ms; /* 0: none */
	bool verbose, stats, no_color, strict_bus, raw_console, no_seccomp;
	const char *trace; /* --trace=FILE, or NULL */
	const char *gdb; /* --gdb=PORT|PATH, or NULL */
} opt;

struct guest guests[MAX_GUESTS];
int nr_guests;
static bool use_color;
static pthread_t main_thread;
static int nr_done; /* atomic: guests whose thread has finished */
static uint64_t start_ns;
static int kvm_fd; /* each VM gets its own dup() */
static pthread_barrier_t setup_done; /* every guest set up, or failed to */
static pthread_barrier_t filter_on; /* then the seccomp filter installed */
static bool setup_failed; /* atomic */

/* ---- usage and option parsing ---- */

static void __attribute__((noreturn, format(printf, 1, 2))) usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("mini-kvm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nTry 'mini-kvm --help' for more information.\n", stderr);
	exit(MINI_KVM_EXIT_USAGE);
}

static void print_help(void)
{
	printf("Usage: mini-kvm [OPTIONS] [GUEST...]\n"
	       "Run up to %d guests at once, each in its own KVM virtual machine.\n"
	       "GUEST is the name of a built-in guest (see --list) or an image file:\n"
	       "a flat binary, an ELF (multiboot) kernel or a Linux bzImage;\n"
	       "a name without '/' that is a built-in means the built-in (use ./NAME\n"
	       "for a file of that name). Without GUEST: the default built-in guest.\n"
	       "\n"
	       "Options:\n"
	       "  -l, --list            list the built-in guests\n"
	       "      --mode=MODE       real (flat image at 0, 16-bit, entered at 0:0) or\n"
	       "                        protected (ELF by its headers, a flat image at\n"
	       "                        0x100000; 32-bit, multiboot-style); default: real\n"
	       "                        for flat images, protected for ELF images\n"
	       "  -m, --mem=SIZE        guest memory, a multiple of 4K, with an optional\n"
	       "                        K, M or G suffix (default 256K real, 16M protected)\n"
	       "  -t, --timeout=SECONDS end each guest after SECONDS (decimals allowed;\n"
	       "                        0: no limit, the default)\n"
	       "  -v, --verbose         decode every VM exit on stderr\n"
	       "  -s, --stats           per-guest exit and hypercall counts on stderr, and\n"
	       "                        the time per exit reason (count, total, mean, log2\n"
	       "                        histogram), in the guest and in mini-kvm\n"
	       "      --trace=FILE      every VM exit of every vCPU to FILE as Chrome trace\n"
	       "                        event JSON (Perfetto, chrome://tracing, jq;\n"
	       "                        tools/trace-svg draws it): an event per exit, named\n"
	       "                        by its reason, its handling by mini-kvm nested in it\n"
	       "      --strict-bus      end a guest (as a crash) at its first access to a\n"
	       "                        port or memory with nothing behind it; default:\n"
	       "                        reads give all-ones, writes are dropped\n"
	       "      --gdb=PORT|PATH   debug the guest with gdb: listen on 127.0.0.1:PORT\n"
	       "                        (or a Unix socket at PATH), wait for gdb before the\n"
	       "                        first instruction (stderr says what to type in gdb).\n"
	       "                        One guest only. gdb's PC and breakpoint addresses\n"
	       "                        are linear: CS.base + EIP (real mode: segment*16+IP)\n"
	       "      --no-color        no coloured line prefixes (also: NO_COLOR set)\n"
	       "      --no-seccomp      run without the system-call filter (see below)\n"
	       "      --raw-console     on a terminal too, guest output exactly as written;\n"
	       "                        default there: control characters and escape\n"
	       "                        sequences are shown (^[, ^G...), not obeyed, except\n"
	       "                        tab, newline, CR and backspace (with several guests:\n"
	       "                        only tab and line ends). Pipes and files always get\n"
	       "                        the exact bytes\n"
	       "  -h, --help            show this help\n"
	       "  -V, --version         show the version\n"
	       "\n"
	       "Protected-mode guests (multiboot kernels, kvm-unit-tests):\n"
	       "      --smp=N           N vCPUs in the guest's VM (1-%d); vCPU 0 boots, the\n"
	       "                        others wait for its INIT and SIPI\n"
	       "      --append=STRING   the kernel's command line (after the image's name)\n"
	       "      --initrd=FILE     FILE as the one multiboot module (at most 24K)\n"
	       "      --device=LIST     optional devices, comma-separated: debug-exit (port\n"
	       "                        0xf4 ends the VM with status (value << 1) | 1, as\n"
	       "                        QEMU's isa-debug-exit) and pc-testdev (QEMU's test\n"
	       "                        device)\n"
	       "      --cpu=MODEL[,+FEATURE|-FEATURE|vendor=NAME]...\n"
	       "                        the CPU that CPUID reports, in QEMU's -cpu syntax.\n"
	       "                        MODEL host, max or qemu64: each is all that KVM\n"
	       "                        supports (the default). -FEATURE takes one away;\n"
	       "                        +FEATURE where KVM lacks it is a warning, and it\n"
	       "                        stays off. FEATURE: vmx, pcid, x2apic, tsc-deadline,\n"
	       "                        invpcid, umip, svm, rdtscp. vendor=GenuineIntel ...\n"
	       "                        host-phys-bits is accepted: KVM's CPUID has the\n"
	       "                        host's physical address width, always\n"
	       "      --no-pit          no i8254 PIT (QEMU's -machine pit=off)\n"
	       "They always have the in-kernel irqchip and PIT (unless --no-pit), fw_cfg\n"
	       "(CPU count and memory size), PIC, PIT and real-mode IVT set up as a\n"
	       "BIOS leaves them, the CMOS clock, and ACPI tables at 0xe0000 whose PM1a\n"
	       "ports power off (S5) and suspend to RAM (S3: with one vCPU, the guest\n"
	       "wakes at once, in real mode at the FACS's waking vector).\n"
	       "\n"
	       "Linux (a bzImage, by the x86 boot protocol; no firmware runs):\n"
	       "  --smp, --initrd (any size) and --append as above; default memory 256M;\n"
	       "  without --append the command line is\n"
	       "  \"" LINUX_DEFAULT_CMDLINE "\".\n"
	       "  COM1 has interrupts, ACPI tables list the vCPUs; poweroff and reboot\n"
	       "  end mini-kvm with 0, a panic (with that panic_warm) with 125. On a\n"
	       "  terminal every key goes to the guest, Ctrl-C included, and its output\n"
	       "  is raw; Ctrl-A x stops mini-kvm (as SIGINT: 130), Ctrl-A Ctrl-A types\n"
	       "  Ctrl-A. The end of stdin reaches the guest as Ctrl-D.\n"
	       "\n"
	       "Once every guest is set up, before any runs, a seccomp filter allows\n"
	       "mini-kvm, on every thread, only the system calls that running guests\n"
	       "need: KVM's run-time ioctls (KVM_RUN, the registers, KVM_TRANSLATE,\n"
	       "KVM_IRQ_LINE, KVM_SET_SIGNAL_MASK), read, write and poll for the\n"
	       "console, the terminal's TCGETS and TCSETSF on stdin, futexes, signals\n"
	       "to itself, the time limit's timers, clocks, memory that is never\n"
	       "executable, new threads (not processes), close and exit; with --gdb\n"
	       "also the stub's send and recv, and KVM_SET_GUEST_DEBUG.\n"
	       "Any other call (open, exec, socket...) is not made: mini-kvm names it\n"
	       "on stderr and exits with 159. The filter is off in the sanitizer build.\n"
	       "\n"
	       "With several guests each output line is prefixed with 'name| '.\n"
	       "stdin goes to the first guest; the others see end of input at once.\n"
	       "On a terminal (but for Linux): Ctrl-D is end of input, Ctrl-C stops mini-kvm.\n"
	       "\n"
	       "Exit status:\n"
	       "  0        every guest ended normally (HC_EXIT 0, or hlt in real mode)\n"
	       "  1-255    a guest's own non-zero HC_EXIT status\n"
	       "  2        bad usage\n"
	       "  124      a guest ran out of time (--timeout)\n"
	       "  125      a guest crashed (triple fault, emulation or entry failure,\n"
	       "           bad hypercall)\n"
	       "  126      cannot start: no usable /dev/kvm, unreadable or invalid image,\n"
	       "           image too big for the guest memory, a --trace FILE that\n"
	       "           cannot be written, a --gdb port or path already in use\n"
	       "  130, 143 stopped by SIGINT, SIGTERM\n"
	       "  137      killed by gdb (its kill command)\n"
	       "  159      a system call the seccomp filter forbids (128 + SIGSYS)\n"
	       "With several guests, the first one in command-line order that did\n"
	       "not end normally gives the status (its HC_EXIT status, 124 or 125).\n"
	       "With --smp, the first vCPU to end ends the VM and gives its status.\n",
	       MAX_GUESTS, VM_MAX_VCPUS);
}

static void print_list(void)
{
	const char *def = guest_os1k_start ? "os1k" : "hello";

	for (size_t i = 0; i < NR_BUILTINS; i++) {
		if (!builtins[i].start)
			continue;
		printf("%-15s %s%s\n", builtins[i].name, builtins[i].desc,
		       strcmp(builtins[i].name, def) ? "" : " [default]");
	}
}

/* SIZE: digits, then an optional K, M or G (optionally KB/KiB and so on). */
static uint64_t parse_mem(const char *s)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	v = isdigit((unsigned char)*s) ? strtoull(s, &end, 10) : 0;
	if (!isdigit((unsigned char)*s) || errno)
		usage_error("--mem=%s: not a size (bytes, with an optional K, M or G suffix)", s);
	switch (toupper((unsigned char)*end)) {
	case 'K':
		shift = 10;
		end++;
		break;
	case 'M':
		shift = 20;
		end++;
		break;
	case 'G':
		shift = 30;
		end++;
		break;
	}
	if (shift && (!strcasecmp(end, "B") || !strcasecmp(end, "iB")))
		end += strlen(end);
	if (*end)
		usage_error("--mem=%s: not a size (bytes, with an optional K, M or G suffix)", s);
	if (!v)
		usage_error("--mem=%s: the guest needs some memory", s);
	if (v > (MEM_MAX >> shift))
		usage_error("--mem=%s: too large, at most 3G (guest memory lies below 4 GiB)", s);
	v <<= shift;
	if (v % 4096)
		usage_error("--mem=%s: must be a multiple of 4K (KVM maps whole pages)", s);
	return v;
}

/*
 * SECONDS[.FRACTION] to milliseconds, rounded; a limit above 0 but under
 * 1 ms is 1 ms. Parsed by hand: strtod links in libc's floating-point
 * input code, 13 KB of the static binary's text, all of it resident.
 */
static unsigned int parse_timeout(const char *s)
{
	unsigned long long ms = 0;
	unsigned int scale = 1000;
	bool digits = false, nonzero = false;
	const char *p;

	for (p = s; isdigit((unsigned char)*p) && ms <= 4000000000ULL; p++, digits = true)
		ms = ms * 10 + (*p - '0') * 1000ULL;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++, digits = true) {
			unsigned int digit = *p - '0';

			nonzero |= digit != 0;
			if (scale > 1) {
				scale /= 10;
				ms += digit * scale;
			} else if (scale == 1) {
				ms += digit >= 5; /* the fourth decimal rounds the third */
				scale = 0;
			}
		}
	if (!digits || (*p && !isdigit((unsigned char)*p)))
		usage_error("--timeout=%s: not a number of seconds", s);
	if (ms > 4000000000ULL) /* the digits that stopped the first loop too */
		usage_error("--timeout=%s: too long, at most 4000000 seconds", s);
	return ms == 0 && nonzero ? 1 : ms;
}

static void parse_mode(const char *s)
{
	if (!strcmp(s, "real"))
		opt.mode = MODE_REAL;
	else if (!strcmp(s, "protected"))
		opt.mode = MODE_PROTECTED;
	else
		usage_error("--mode=%s: must be 'real' or 'protected'", s);
}

/* PORT: 1-65535, TCP on 127.0.0.1; anything else: a Unix socket's path. */
static const char *parse_gdb(const char *s)
{
	struct sockaddr_un un;

	if (!*s)
		usage_error("--gdb: a port (1-65535) or a Unix socket's path");
	if (s[strspn(s, "0123456789")] == '\0' && (strlen(s) > 5 || !atoi(s) || atoi(s) > 65535))
		usage_error("--gdb=%s: a port is 1 to 65535", s);
	if (strlen(s) >= sizeof(un.sun_path))
		usage_error("--gdb=%s: a Unix socket's path is at most %zu bytes", s,
			    sizeof(un.sun_path) - 1);
	return s;
}

static int parse_smp(const char *s)
{
	char *end;
	long n;

	errno = 0;
	n = isdigit((unsigned char)*s) ? strtol(s, &end, 10) : 0;
	if (!isdigit((unsigned char)*s) || errno || *end || n < 1 || n > VM_MAX_VCPUS)
		usage_error("--smp=%s: must be a number of vCPUs from 1 to %d", s, VM_MAX_VCPUS);
	return n;
}

/* A comma-separated list of the optional devices. */
static void parse_devices(const char *list)
{
	char buf[256], *save, *name;

	if (snprintf(buf, sizeof(buf), "%s", list) >= (int)sizeof(buf))
		usage_error("--device=%s: too long", list);
	for (name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		if (!strcmp(name, "debug-exit"))
			machine.debug_exit = true;
		else if (!strcmp(name, "pc-testdev"))
			machine.pc_testdev = true;
		else
			usage_error(
				"--device=%s: unknown device '%s' (known: debug-exit, pc-testdev)",
				list, name);
	}
}

static void parse_cpu(const char *spec)
{
	char err[300];

	if (cpu_model_parse(&machine.cpu_model, spec, err, sizeof(err)))
		usage_error("--cpu=%s: %s", spec, err);
	machine.has_cpu_model = true;
}

/* Returns the index of the first GUEST in argv (getopt permutes them there). */
static int parse_options(int argc, char **argv)
{
	enum {
		OPT_MODE = 256,
		OPT_NO_COLOR,
		OPT_STRICT_BUS,
		OPT_SMP,
		OPT_APPEND,
		OPT_INITRD,
		OPT_DEVICE,
		OPT_RAW_CONSOLE,
		OPT_TRACE,
		OPT_CPU,
		OPT_NO_PIT,
		OPT_GDB,
		OPT_NO_SECCOMP,
	};
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "list", no_argument, NULL, 'l' },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ "mem", required_argument, NULL, 'm' },
		{ "timeout", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "stats", no_argument, NULL, 's' },
		{ "no-color", no_argument, NULL, OPT_NO_COLOR },
		{ "strict-bus", no_argument, NULL, OPT_STRICT_BUS },
		{ "smp", required_argument, NULL, OPT_SMP },
		{ "append", required_argument, NULL, OPT_APPEND },
		{ "initrd", required_argument, NULL, OPT_INITRD },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "raw-console", no_argument, NULL, OPT_RAW_CONSOLE },
		{ "trace", required_argument, NULL, OPT_TRACE },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "no-pit", no_argument, NULL, OPT_NO_PIT },
		{ "gdb", required_argument, NULL, OPT_GDB },
		{ "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hVlm:t:vs", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			print_help();
			exit(0);
		case 'V':
			printf("mini-kvm %s (hypercall ABI %d)\n", MINI_KVM_VERSION,
			       HC_ABI_VERSION);
			exit(0);
		case 'l':
			print_list();
			exit(0);
		case OPT_MODE:
			parse_mode(optarg);
			break;
		case 'm':
			opt.mem = parse_mem(optarg);
			break;
		case 't':
			opt.timeout_ms = parse_timeout(optarg);
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 's':
			opt.stats = true;
			break;
		case OPT_NO_COLOR:
			opt.no_color = true;
			break;
		case OPT_STRICT_BUS:
			opt.strict_bus = true;
			break;
		case OPT_SMP:
			machine.smp = parse_smp(optarg);
			break;
		case OPT_APPEND:
			machine.append = optarg;
			break;
		case OPT_INITRD:
			machine.initrd_path = optarg;
			break;
		case OPT_DEVICE:
			parse_devices(optarg);
			break;
		case OPT_RAW_CONSOLE:
			opt.raw_console = true;
			break;
		case OPT_TRACE:
			opt.trace = optarg;
			break;
		case OPT_CPU:
			parse_cpu(optarg);
			break;
		case OPT_NO_PIT:
			machine.no_pit = true;
			break;
		case OPT_GDB:
			opt.gdb = parse_gdb(optarg);
			break;
		case OPT_NO_SECCOMP:
			opt.no_seccomp = true;
			break;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c'", optopt);
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	return optind;
}

/* ---- guests: finding, loading, setting up ---- */

static const struct builtin *find_builtin(const char *name)
{
	for (size_t i = 0; i < NR_BUILTINS; i++)
		if (builtins[i].start && !strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

static void __attribute__((noreturn, format(printf, 2, 3)))
cannot_start(const struct guest *g, const char *fmt, ...)
{
	va_list ap;

	flush_all();
	fprintf(stderr, "mini-kvm: %s: ", g->arg);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(MINI_KVM_EXIT_CANNOT_START);
}

/*
 * O_NONBLOCK: opening a FIFO (or a device) must not wait for a writer
 * before fstat() can say it is no image; O_NOCTTY: a terminal given as an
 * image must not become ours. Returns the open file and its size.
 */
static int open_image(struct guest *g, uint64_t *size)
{
	struct stat st;
	int fd = open(g->arg, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && !strchr(g->arg, '/'))
		cannot_start(g, "no such file, and no built-in guest of that name "
				"(see mini-kvm --list)");
	if (fd < 0)
		cannot_start(g, "%s", strerror(errno));
	if (fstat(fd, &st))
		cannot_start(g, "%s", strerror(errno));
	if (S_ISDIR(st.st_mode))
		cannot_start(g, "is a directory, not a guest image");
	if (!S_ISREG(st.st_mode))
		cannot_start(g, "not a regular file");
	if (!st.st_size)
		cannot_start(g, "image is empty");
	if ((uint64_t)st.st_size > MEM_MAX)
		cannot_start(g, "image is %lld bytes, larger than any guest memory",
			     (long long)st.st_size);
	*size = st.st_size;
	return fd;
}

/* [off, off + len) of the file, to buf + off. */
static void read_at(struct guest *g, int fd, uint8_t *buf, uint64_t off, uint64_t len)
{
	while (len) {
		ssize_t n = pread(fd, buf + off, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			cannot_start(g, "read: %s", n ? strerror(errno) : "file shrank");
		off += n;
		len -= n;
	}
}

/*
 * Of an ELF file, only what the loader uses: the headers and each PT_LOAD
 * segment's file data. Their sum cannot exceed the guest memory in a valid
 * image (the segments neither overlap nor leave it), so once it would, the
 * loader refuses the image on its headers alone and no more is read.
 * Sections, symbols and a sparse tail are never read; the buffer is as
 * long as the file, so that every check sees its true size, and its
 * untouched pages cost nothing.
 */
static void read_elf(struct guest *g, int fd, uint8_t *buf, uint64_t size)
{
	uint64_t budget = g->mem;
	Elf32_Ehdr eh;

	read_at(g, fd, buf, 0, size < sizeof(eh) ? size : sizeof(eh));
	if (size < sizeof(eh))
		return;
	memcpy(&eh, buf, sizeof(eh));
	/* At most 65535 headers of 32 bytes: 2 MiB, whatever the file says. */
	if (eh.e_phentsize != sizeof(Elf32_Phdr) || eh.e_phoff > size ||
	    (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr) > size - eh.e_phoff)
		return;
	read_at(g, fd, buf, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf32_Phdr));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf32_Phdr ph;

		memcpy(&ph, buf + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD || ph.p_offset > size || ph.p_filesz > size - ph.p_offset)
			continue;
		if (ph.p_filesz > budget)
			return;
		budget -= ph.p_filesz;
		read_at(g, fd, buf, ph.p_offset, ph.p_filesz);
	}
}

/* The file into memory, all of it or (an ELF) what the loader uses. */
static void read_image(struct guest *g, int fd, uint64_t size, bool elf)
{
	uint8_t *buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (buf == MAP_FAILED)
		cannot_start(g, "out of memory for a %llu-byte image", (unsigned long long)size);
	if (elf)
		read_elf(g, fd, buf, size);
	else
		read_at(g, fd, buf, 0, size);
	close(fd);
	g->image = buf;
	g->len = size;
}

/*
 * A bare name that is a built-in is the built-in; anything else a file.
 * The image gets every check its loader will make, so that a bad one is
 * refused before the command needs a KVM.
 */
static void resolve_guest(struct guest *g)
{
	const struct builtin *b = strchr(g->arg, '/') ? NULL : find_builtin(g->arg);
	uint8_t magic[IMAGE_HEAD];
	uint64_t size = 0, head;
	int fd = -1;
	bool elf;
	char err[200];

	if (b) {
		g->image = b->start;
		g->len = b->end - b->start;
		elf = image_is_elf(g->image, g->len);
	} else {
		/* The magic chooses the mode, and the mode the memory. */
		fd = open_image(g, &size);
		head = size < IMAGE_HEAD ? size : IMAGE_HEAD;
		read_at(g, fd, magic, 0, head);
		elf = image_is_elf(magic, head);
		g->is_linux = image_is_bzimage(magic, head);
	}
	if ((elf || g->is_linux) && opt.mode == MODE_REAL)
		usage_error("%s: %s runs in protected mode only", g->arg,
			    elf ? "an ELF image" : "a Linux kernel");
	g->real = opt.mode == MODE_REAL || (opt.mode == MODE_AUTO && !elf && !g->is_linux);
	g->mem = opt.mem       ? opt.mem
		 : g->real     ? REAL_MEM_DEFAULT
		 : g->is_linux ? LINUX_MEM_DEFAULT
			       : PROT_MEM_DEFAULT;
	/* A flat image must fit: a huge or sparse file is refused unread. */
	if (fd >= 0 && !elf && !g->is_linux &&
	    flat_check(g->real ? 0 : PROT_FLAT_LOAD, size, g->mem, err, sizeof(err)))
		cannot_start(g, "%s", err);
	if (fd >= 0)
		read_image(g, fd, size, elf);
	if (g->is_linux)
		return; /* checked with its initrd and command line: check_machine() */
	if (elf ? elf_check(g->image, g->len, g->mem, err, sizeof(err))
		: flat_check(g->real ? 0 : PROT_FLAT_LOAD, g->len, g->mem, err, sizeof(err)))
		cannot_start(g, "%s", err);
}

/* A Linux kernel gets the loader's checks, with its initrd and command line. */
static void check_linux(struct guest *g)
{
	struct linux_boot boot = linux_boot_of(g);
	char err[200];

	if (g->is_linux && bzimage_check(&boot, g->mem, err, sizeof(err)))
		cannot_start(g, "%s", err);
}

/*
 * --smp, --append, --initrd, --cpu and --no-pit are for protected-mode
 * (multiboot) guests: a real-mode guest has no irqchip to hold the other
 * vCPUs, nor a loader, and its CPUID is KVM's default.
 * The module is read, with an image's checks, before /dev/kvm is opened.
 */
static void check_machine(void)
{
	struct guest initrd = { .arg = machine.initrd_path };
	uint64_t size;
	int fd;

	for (int i = 0; i < nr_guests; i++)
		if (guests[i].real && (machine.smp > 1 || machine.append || machine.initrd_path ||
				       machine.has_cpu_model || machine.no_pit))
			usage_error("%s: --smp, --append, --initrd, --cpu and --no-pit need a "
				    "protected-mode guest (an ELF, or --mode=protected)",
				    guests[i].arg);
	if (machine.initrd_path) {
		fd = open_image(&initrd, &size);
		read_image(&initrd, fd, size, false);
		machine.initrd = (uint8_t *)initrd.image;
		machine.initrd_len = initrd.len;
	}
	for (int i = 0; i < nr_guests; i++)
		check_linux(&guests[i]);
}

/* "build/guests/foo.bin" -> "foo", made unique with "#2" and so on. */
static void name_guest(struct guest *g, int idx)
{
	const char *base = strrchr(g->arg, '/') ? strrchr(g->arg, '/') + 1 : g->arg;
	size_t len = strcspn(base, ".");
	int dup = 1;

	if (!len)
		len = strlen(base);
	if (len > 16)
		len = 16;
	snprintf(g->name, sizeof(g->name), "%.*s", (int)len, base);
	for (int i = 0; i < idx; i++)
		if (!strncmp(guests[i].name, g->name, len) &&
		    (guests[i].name[len] == '\0' || guests[i].name[len] == '#'))
			dup++;
	if (dup > 1)
		snprintf(g->name + len, sizeof(g->name) - len, "#%d", dup);
}

/* Why g cannot start, kept for main() to report in command-line order. */
static int __attribute__((format(printf, 2, 3))) setup_error(struct guest *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g->error, sizeof(g->error), fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * A VM, its memory, the image and a vCPU in the guest's mode. Runs on the
 * guest's own thread, so that the VMs of several guests are made at once.
 */
static int setup_guest(struct guest *g)
{
	static const struct console_ops console = { guest_write, guest_getc, NULL };
	struct guest_spec spec = {
		.mem_size = g->mem,
		.mode = g->real ? GUEST_REAL : GUEST_PROTECTED,
		.image = g->is_linux ? NULL : g->image,
		.len = g->len,
		.load_gpa = g->real ? 0 : PROT_FLAT_LOAD,
		.irqchip = !g->real,
		.no_pit = machine.no_pit,
		.pc_firmware = !g->real && !g->is_linux, /* Linux sets up its own */
		.cpu_model = machine.has_cpu_model ? &machine.cpu_model : NULL,
	};
	struct console_ops ops = console;
	char err[200];
	int fd = fcntl(kvm_fd, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		return setup_error(g, "cannot duplicate /dev/kvm: %s", strerror(errno));
	if (__vm_create_with_one_vcpu(fd, &spec, &g->vcpu, err, sizeof(err)))
		return setup_error(g, "%s", err);
	g->vm = g->vcpu->vm;
	if (machine_setup(g, err, sizeof(err)))
		return setup_error(g, "%s", err);
	vm_close_kvm(g->vm);
	if (g->is_linux)
		ops.getc = NULL; /* its input is pushed: console_start_input() */
	ops.opaque = g;
	vm_set_console(g->vm, &ops);
	g->vm->empty_bus_fatal = opt.strict_bus;
	if (opt.verbose)
		g->vm->log = guest_log(g);
	/* Exits are timed only when asked: untimed, the run loop reads no clock. */
	if ((opt.trace || opt.stats) && timing_attach(g))
		return setup_error(g, "out of memory for timing its exits");
	return 0;
}

/* ---- running ---- */

/* Why g ended, on stderr, unless it ended well. Called under console_lock(). */
static void report_end(struct guest *g)
{
	switch (g->result) {
	case VCPU_CRASHED:
	case VCPU_BAD_HYPERCALL:
		fprintf(stderr, "mini-kvm: %s: crashed: %s\n", g->arg, g->vcpu->why);
		vcpu_dump(g->vcpu, stderr);
		fprintf(stderr, "  hint: %s\n", vcpu_crash_hint(g->vcpu));
		break;
	case VCPU_TIMEOUT:
		fprintf(stderr, "mini-kvm: %s: timed out after %u.%03u s\n", g->arg,
			opt.timeout_ms / 1000, opt.timeout_ms % 1000);
		break;
	default:
		break;
	}
}

static void *guest_thread(void *arg)
{
	struct guest *g = arg;

	if (setup_guest(g))
		__atomic_store_n(&setup_failed, true, __ATOMIC_SEQ_CST);
	/* No guest runs unless every one could start, nor before the filter. */
	pthread_barrier_wait(&setup_done);
	if (__atomic_load_n(&setup_failed, __ATOMIC_SEQ_CST))
		return NULL;
	pthread_barrier_wait(&filter_on);
	g->result = machine_run(g, opt.timeout_ms);
	if (gdb_enabled())
		gdb_guest_ended(g);
	if (g->vm->log && g->vm->log != stderr)
		fflush(g->vm->log);
	console_lock();
	/* Its waits for stdout are cut short on this thread's own vCPU. */
	guest_output_end(g, g->vm->vcpus[0]);
	report_end(g);
	console_unlock();
	__atomic_add_fetch(&nr_done, 1, __ATOMIC_SEQ_CST);
	pthread_kill(main_thread, SIGUSR2);
	return NULL;
}

static void stop_all(void)
{
	for (int i = 0; i < nr_guests; i++)
		if (guests[i].started && guests[i].vm)
			vm_kick_all(guests[i].vm);
}

/* Waits for every guest, or for SIGINT/SIGTERM: returns that signal, or 0. */
static int wait_guests(const sigset_t *set)
{
	while (__atomic_load_n(&nr_done, __ATOMIC_SEQ_CST) < nr_guests) {
		int sig = sigwaitinfo(set, NULL);

		if (sig == SIGINT || sig == SIGTERM) {
			stop_all();
			return sig;
		}
	}
	return 0;
}

/* Joins every started thread; one stuck in KVM_RUN is left behind. */
static void join_guests(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += STOP_GRACE_MS / 1000;
	for (int i = 0; i < nr_guests; i++)
		if (guests[i].started && pthread_timedjoin_np(guests[i].thread, NULL, &ts))
			fprintf(stderr, "mini-kvm: %s: the vCPU did not stop; leaving it\n",
				guests[i].arg);
}

static void print_stats(const struct guest *g)
{
	const struct vcpu_stats *s = &g->vcpu->stats;

	fprintf(stderr, "mini-kvm: %s: stats: %s", g->arg, vcpu_result_name(g->result));
	if (g->result == VCPU_EXITED)
		fprintf(stderr, " with status %d", g->vcpu->exit_status);
	fprintf(stderr, "\n  exits:");
	for (int i = 0; i < VCPU_EXIT_REASONS; i++)
		if (s->exits[i])
			fprintf(stderr, " %s=%llu", kvm_exit_reason_name(i),
				(unsigned long long)s->exits[i]);
	fprintf(stderr, "\n  hypercalls:");
	for (int i = 0; i <= HC_NR_FUNCTIONS; i++)
		if (s->hypercalls[i])
			fprintf(stderr, " %s=%llu", hypercall_names[i],
				(unsigned long long)s->hypercalls[i]);
	fprintf(stderr, "\n  empty-bus accesses: %llu\n", (unsigned long long)s->empty_bus);
	if (s->first_run_ns)
		fprintf(stderr,
			"  first guest instruction at %.3f ms, end at %.3f ms"
			" (since mini-kvm started)\n",
			(s->first_run_ns - start_ns) / 1e6,
			((s->end_ns ? s->end_ns : now_ns()) - start_ns) / 1e6);
	if (g->vm)
		print_exit_times(g);
}

/* The first failing guest in command-line order decides. */
static int exit_status(void)
{
	for (int i = 0; i < nr_guests; i++) {
		const struct guest *g = &guests[i];

		switch (g->result) {
		case VCPU_HALTED:
			break;
		case VCPU_EXITED:
			if (g->vcpu->exit_status)
				return g->vcpu->exit_status;
			break;
		case VCPU_TIMEOUT:
			return MINI_KVM_EXIT_TIMEOUT;
		default:
			return MINI_KVM_EXIT_CRASH;
		}
	}
	return 0;
}

/* ---- process-wide: signals, terminal, exit ---- */

static void at_exit(void)
{
	flush_all();
	term_restore();
}

/* mini-kvm itself crashed: give the terminal back, then die as we would. */
static void fatal_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

static void setup_signals(sigset_t *set)
{
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL };

	for (size_t i = 0; i < sizeof(fatal) / sizeof(fatal[0]); i++)
		signal(fatal[i], fatal_signal);
	/* A closed stdout must not kill us before we report. */
	signal(SIGPIPE, SIG_IGN);
	/* Blocked everywhere (threads inherit it): only sigwaitinfo takes them. */
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	main_thread = pthread_self();
}

/*
 * With stdin, stdout or stderr closed, the next open() would take its
 * number, and the guest's output would go into /dev/kvm or an image.
 */
static void open_std_fds(void)
{
	static const char *const name[] = { "stdin", "stdout", "stderr" };

	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || open("/dev/null", O_RDWR) == fd)
			continue;
		/* stderr may be the one closed: then nobody can be told */
		dprintf(2, "mini-kvm: %s is closed, and /dev/null cannot stand in for it: %s\n",
			name[fd], strerror(errno));
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
}

/*
 * A limit of the host is no crash of the guest: where this KVM cannot run
 * protected mode (kvm_pvm runs real mode only), say so in one line, with
 * the way to run it elsewhere, before anything runs.
 */
static void check_kvm_can_run(int argc, char **argv)
{
	const char *why;

	for (int i = 0; i < nr_guests; i++) {
		if (guests[i].real || kvm_can_run(KVM_MODE_PROTECTED, &why))
			continue;
		fprintf(stderr, "mini-kvm: %s: %s; run it in the helper VM: ci/nested-kvm",
			guests[i].arg, why);
		for (int a = 0; a < argc; a++)
			fprintf(stderr, " %s", argv[a]);
		fputc('\n', stderr);
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
}

static int open_kvm_or_die(void)
{
	int fd = __kvm_open();

	if (fd < 0) {
		fprintf(stderr, "mini-kvm: %s (%s)\n", kvm_open_diagnosis(-fd), strerror(-fd));
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
	return fd;
}

/* As QEMU: a feature asked for that this KVM cannot give is left off, said once. */
static void warn_cpu_model(void)
{
	char missing[200];

	if (!machine.has_cpu_model)
		return;
	if (__kvm_cpu_model_missing(kvm_fd, &machine.cpu_model, missing, sizeof(missing)))
		fprintf(stderr, "mini-kvm: warning: --cpu: KVM_GET_SUPPORTED_CPUID failed\n");
	else if (missing[0])
		fprintf(stderr, "mini-kvm: warning: --cpu: this KVM lacks %s; left off\n", missing);
}

/* Starts every guest's thread; returns once all could start, or exits. */
static void start_guests(void)
{
	pthread_barrier_init(&setup_done, NULL, nr_guests + 1);
	pthread_barrier_init(&filter_on, NULL, nr_guests + 1);
	for (int i = 0; i < nr_guests; i++) {
		int ret = pthread_create(&guests[i].thread, NULL, guest_thread, &guests[i]);

		if (ret) {
			/* The threads made so far wait at the barrier: just go. */
			fprintf(stderr, "mini-kvm: %s: cannot start a thread: %s\n", guests[i].arg,
				strerror(ret));
			exit(MINI_KVM_EXIT_CANNOT_START);
		}
		guests[i].started = true;
	}
	pthread_barrier_wait(&setup_done);
	if (!setup_failed)
		return;
	join_guests();
	for (int i = 0; i < nr_guests; i++)
		if (guests[i].error[0])
			fprintf(stderr, "mini-kvm: %s: %s\n", guests[i].arg, guests[i].error);
	exit(MINI_KVM_EXIT_CANNOT_START);
}

/*
 * Set-up is over: from here on only the system calls of the run loop
 * (tools/mini-kvm-seccomp.c). The sanitizer build runs without the filter:
 * AddressSanitizer's leak check at exit ptrace()s the process from a
 * clone() of its own, and its reports read /proc/self/maps.
 */
static void lock_down(void)
{
	char err[200];

#ifdef __SANITIZE_ADDRESS__
	opt.no_seccomp = true;
#endif
	if (opt.no_seccomp)
		return;
	if (seccomp_install(opt.gdb ? SECCOMP_WITH_GDB : 0, term_restore, err, sizeof(err))) {
		fprintf(stderr, "mini-kvm: %s (--no-seccomp runs without it)\n", err);
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
}

int main(int argc, char **argv)
{
	const char *def = guest_os1k_start ? "os1k" : "hello";
	int first, sig;
	sigset_t set;
	char err[300];

	start_ns = now_ns();
	open_std_fds();
	first = parse_options(argc, argv);
	nr_guests = argc - first ? argc - first : 1;
	if (nr_guests > MAX_GUESTS)
		usage_error("%d guests: at most %d run at once", nr_guests, MAX_GUESTS);
	/* What is wrong with an image comes first, whatever the host has. */
	for (int i = 0; i < nr_guests; i++) {
		guests[i].arg = argc - first ? argv[first + i] : def;
		resolve_guest(&guests[i]);
	}
	check_machine();
	if (opt.gdb && nr_guests > 1)
		usage_error("--gdb: one guest at a time (%d given)", nr_guests);
	/* A trace that cannot be written is known before anything runs. */
	if (opt.trace && trace_open(opt.trace, start_ns, err, sizeof(err))) {
		fprintf(stderr, "mini-kvm: %s\n", err);
		exit(MINI_KVM_EXIT_CANNOT_START);
	}
	/* So is a port in use. Without --gdb there is no socket at all. */
	if (opt.gdb && gdb_listen(opt.gdb, err, sizeof(err))) {
		fprintf(stderr, "mini-kvm: %s\n", err);
		exit(MINI_KVM_EXIT_CANNOT_START);
	}

	/* Before anything heavy: is there a KVM at all? */
	kvm_fd = open_kvm_or_die();
	check_kvm_can_run(argc, argv);
	warn_cpu_model();
	/* Before the signals are ours: Ctrl-C while waiting for gdb just ends it. */
	if (opt.gdb)
		gdb_wait_client(kvm_fd, guests[0].real, guests[0].real ? 1 : machine.smp);
	setup_signals(&set);
	atexit(at_exit);
	if (opt.gdb)
		gdb_start(); /* after setup_signals(): it must not take SIGINT */
	/* A lone Linux guest owns the terminal, as under QEMU's -nographic. */
	console_setup(nr_guests > 1, opt.raw_console || (nr_guests == 1 && guests[0].is_linux));
	use_color = nr_guests > 1 && !opt.no_color && !getenv("NO_COLOR") && isatty(STDOUT_FILENO);
	for (int i = 0; i < nr_guests; i++) {
		struct guest *g = &guests[i];

		name_guest(g, i);
		g->color = use_color ? colors[i] : "";
		g->has_stdin = i == 0;
	}
	term_raw(guests[0].is_linux);
	start_guests();
	close(kvm_fd); /* every VM is made: see vm_close_kvm() */
	if (guests[0].is_linux)
		console_start_input(&guests[0]);
	lock_down();
	pthread_barrier_wait(&filter_on);
	sig = wait_guests(&set);
	join_guests();
	trace_finish();
	flush_all();
	term_restore();
	if (opt.stats)
		for (int i = 0; i < nr_guests; i++)
			print_stats(&guests[i]);
	if (sig) {
		fprintf(stderr, "mini-kvm: stopped by %s\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
		exit(128 + sig);
	}
	if (gdb_killed()) {
		fprintf(stderr, "mini-kvm: %s: killed by gdb\n", guests[0].arg);
		exit(128 + SIGKILL);
	}
	return exit_status();
}
