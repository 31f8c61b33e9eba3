// SPDX-License-Identifier: MIT
/*
 * kut-qemu: mini-kvm behind the QEMU command line that kvm-unit-tests'
 * runner writes (QEMU=tools/kut-qemu ./run_tests.sh). The options mini-kvm
 * can honour become mini-kvm's; every other one is refused with one line
 * naming it, which the runner, probing with its dummy kernel, reports as
 * the test's SKIP reason. Nothing is ignored silently. -cpu is mini-kvm's
 * --cpu (the same syntax, judged by mini-kvm), -machine pit=off its
 * --no-pit. KUT_QEMU_PRINT=1 prints the mini-kvm command line instead of
 * running it. C, not a script: the runner starts this seven times per
 * test, and in the helper VM an interpreter's start-up takes seconds.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

#define MAX_MEM_MIB 3072 /* mini-kvm's RAM lies below 4 GiB */
#define DEFAULT_MEM_MIB 128 /* QEMU's */

/* QEMU's name for each device mini-kvm has, and mini-kvm's. */
static const char *const devices[][2] = {
	{ "pc-testdev", "pc-testdev" },
	{ "isa-debug-exit", "debug-exit" },
};
#define NR_DEVICES (sizeof(devices) / sizeof(devices[0]))

/* Options that only say what mini-kvm does anyway: NULL takes no value. */
static const char *const accepted[][2] = {
	{ "-nodefaults", NULL },
	{ "--no-reboot", NULL },
	{ "-no-reboot", NULL },
	{ "-enable-kvm", NULL },
	{ "-display", "none" },
	{ "-serial", "stdio" },
	{ "-accel", "kvm" },
	/* mini-kvm's PC drops lost PIT ticks (lib/devices/pc_firmware.c). */
	{ "-global", "kvm-pit.lost_tick_policy=discard" },
};
#define NR_ACCEPTED (sizeof(accepted) / sizeof(accepted[0]))

struct command {
	const char *argv[32];
	int argc;
	char mem[32], smp[32], device[64], cpu[512], append[4096], initrd[PATH_MAX];
	const char *kernel, *cpu_spec;
	int mem_mib, cpus;
	bool no_pit;
};

static void __attribute__((noreturn, format(printf, 2, 3)))
refuse(const char *option, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "kut-qemu: %s: ", option);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* "-opt value", for messages. */
static const char *both(const char *opt, const char *value)
{
	static char buf[4096];

	snprintf(buf, sizeof(buf), "%s %s", opt, value);
	return buf;
}

static int parse_mem(const char *value)
{
	const char *s = strncmp(value, "size=", 5) ? value : value + 5;
	char *end;
	long mib = strtol(s, &end, 10);

	if (end == s || mib <= 0)
		refuse(both("-m", value), "not a size in MiB or GiB");
	if (*end == 'G' || *end == 'g') {
		mib *= 1024;
		end++;
	} else if (*end == 'M' || *end == 'm') {
		end++;
	}
	if (*end == 'B' || *end == 'b')
		end++;
	if (*end)
		refuse(both("-m", value), "not a size in MiB or GiB");
	if (mib > MAX_MEM_MIB)
		refuse(both("-m", value),
		       "mini-kvm gives a guest at most 3 GiB (RAM lies below 4 GiB)");
	return mib;
}

static int parse_smp(const char *value)
{
	const char *s = strncmp(value, "cpus=", 5) ? value : value + 5;
	char *end;
	long n = strtol(s, &end, 10);

	if (end == s || *end || n <= 0)
		refuse(both("-smp", value), "only a number of CPUs is supported");
	/* The runner takes the maximum from the end of such a line. */
	if (n > VM_MAX_VCPUS)
		refuse(both("-smp", value), "SMP CPUs %ld exceed mini-kvm's maximum (%d)", n,
		       VM_MAX_VCPUS);
	return n;
}

static void parse_device(struct command *c, const char *value)
{
	size_t name_len = strcspn(value, ",");
	const char *props = value[name_len] ? value + name_len + 1 : "";
	size_t used = strlen(c->device);
	size_t i;

	for (i = 0; i < NR_DEVICES; i++)
		if (strlen(devices[i][0]) == name_len && !strncmp(value, devices[i][0], name_len))
			break;
	if (i == NR_DEVICES)
		refuse(both("-device", value),
		       "mini-kvm has no such device (it has pc-testdev, isa-debug-exit)");
	if (i == 1 && *props && strcmp(props, "iobase=0xf4,iosize=0x4") &&
	    strcmp(props, "iobase=0xf4"))
		refuse(both("-device", value),
		       "mini-kvm's debug-exit port is at 0xf4, 4 bytes wide");
	if (i != 1 && *props)
		refuse(both("-device", value), "the device takes no properties here");
	snprintf(c->device + used, sizeof(c->device) - used, "%s%s",
		 used ? "," : "--device=", devices[i][1]);
}

/* -machine properties: accel=kvm and pit=on change nothing, pit=off is --no-pit. */
static void parse_machine(struct command *c, const char *value)
{
	char props[256], *prop, *save;

	snprintf(props, sizeof(props), "%s", value);
	for (prop = strtok_r(props, ",", &save); prop; prop = strtok_r(NULL, ",", &save)) {
		if (!strcmp(prop, "pit=off"))
			c->no_pit = true;
		else if (strcmp(prop, "accel=kvm") && strcmp(prop, "pit=on"))
			refuse(both("-machine", value),
			       "mini-kvm has no machine property '%s' (it accepts accel=kvm, "
			       "pit=on, pit=off)",
			       prop);
	}
}

/* Returns true when opt was one of `accepted`; refuses a value it does not take. */
static bool parse_accepted(const char *opt, int *i, int argc, char **argv)
{
	for (size_t k = 0; k < NR_ACCEPTED; k++) {
		if (strcmp(opt, accepted[k][0]))
			continue;
		if (!accepted[k][1])
			return true;
		if (++*i == argc)
			refuse(opt, "needs a value");
		if (strcmp(argv[*i], accepted[k][1]))
			refuse(both(opt, argv[*i]), "not supported by mini-kvm (it accepts %s)",
			       accepted[k][1]);
		return true;
	}
	return false;
}

static void parse(struct command *c, int argc, char **argv)
{
	c->mem_mib = DEFAULT_MEM_MIB;
	c->cpus = 1;
	for (int i = 1; i < argc; i++) {
		const char *opt = argv[i], *value;

		if (parse_accepted(opt, &i, argc, argv))
			continue;
		if (++i == argc)
			refuse(opt, "needs a value");
		value = argv[i];
		if (!strcmp(opt, "-m"))
			c->mem_mib = parse_mem(value);
		else if (!strcmp(opt, "-smp"))
			c->cpus = parse_smp(value);
		else if (!strcmp(opt, "-append"))
			snprintf(c->append, sizeof(c->append), "--append=%s", value);
		else if (!strcmp(opt, "-initrd"))
			snprintf(c->initrd, sizeof(c->initrd), "--initrd=%s", value);
		else if (!strcmp(opt, "-kernel"))
			c->kernel = value;
		else if (!strcmp(opt, "-device"))
			parse_device(c, value);
		else if (!strcmp(opt, "-machine"))
			parse_machine(c, value);
		else if (!strcmp(opt, "-cpu"))
			c->cpu_spec = value; /* QEMU's syntax: mini-kvm's --cpu takes it as it is */
		else
			refuse(both(opt, value), "an option mini-kvm does not support");
	}
	if (!c->kernel)
		refuse("-kernel", "no kernel given");
}

/* mini-kvm, beside this program's directory (tools/ or build/). */
static const char *mini_kvm_path(void)
{
	static char path[PATH_MAX];
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (getenv("MINI_KVM"))
		return getenv("MINI_KVM");
	if (n <= 0)
		return "mini-kvm";
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	snprintf(path, sizeof(path), "%.*s/../mini-kvm", PATH_MAX - 16, self);
	return path;
}

/* mini-kvm's own verdict on a -cpu spec (the same syntax), before any kernel. */
static void check_cpu(const char *mini_kvm, const char *spec)
{
	char cmd[PATH_MAX + 1024], line[1024] = "refused", prefix[600];
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "'%s' '--cpu=%s' --version 2>&1 >/dev/null", mini_kvm, spec);
	if (strchr(spec, '\''))
		refuse(both("-cpu", spec), "a quote in a CPU model");
	p = popen(cmd, "r");
	if (!p)
		refuse(both("-cpu", spec), "cannot run %s: %s", mini_kvm, strerror(errno));
	if (!fgets(line, sizeof(line), p))
		snprintf(line, sizeof(line), "refused");
	status = pclose(p);
	if (status == 0)
		return;
	line[strcspn(line, "\n")] = '\0';
	snprintf(prefix, sizeof(prefix), "mini-kvm: --cpu=%s: ", spec);
	refuse(both("-cpu", spec), "%s",
	       strncmp(line, prefix, strlen(prefix)) ? line : line + strlen(prefix));
}

static void build(struct command *c, const char *mini_kvm)
{
	c->argv[c->argc++] = mini_kvm;
	snprintf(c->mem, sizeof(c->mem), "--mem=%dM", c->mem_mib);
	c->argv[c->argc++] = c->mem;
	snprintf(c->smp, sizeof(c->smp), "--smp=%d", c->cpus);
	c->argv[c->argc++] = c->smp;
	if (c->device[0])
		c->argv[c->argc++] = c->device;
	if (c->cpu_spec) {
		snprintf(c->cpu, sizeof(c->cpu), "--cpu=%s", c->cpu_spec);
		c->argv[c->argc++] = c->cpu;
	}
	if (c->no_pit)
		c->argv[c->argc++] = "--no-pit";
	if (c->append[0])
		c->argv[c->argc++] = c->append;
	if (c->initrd[0])
		c->argv[c->argc++] = c->initrd;
	c->argv[c->argc++] = "--";
	c->argv[c->argc++] = c->kernel;
	c->argv[c->argc] = NULL;
}

/* Each word as a POSIX shell reads it back: quoted where it must be. */
static void print_command(const struct command *c)
{
	for (int i = 0; i < c->argc; i++) {
		const char *w = c->argv[i];

		fputs(i ? " " : "", stdout);
		if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789@%+=:,./-_") == strlen(w)) {
			fputs(w, stdout);
			continue;
		}
		putchar('\'');
		for (; *w; w++)
			fputs(*w == '\'' ? "'\"'\"'" : (char[]){ *w, 0 }, stdout);
		putchar('\'');
	}
	putchar('\n');
}

int main(int argc, char **argv)
{
	static struct command c;
	const char *mini_kvm = mini_kvm_path();
	struct stat st;

	/* The runner reads a version from the first line of -h (scripts/arch-run.bash). */
	if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
			  !strcmp(argv[1], "-version") || !strcmp(argv[1], "--version"))) {
		puts("QEMU emulator version 7.2.0 (kut-qemu: mini-kvm's QEMU-compatible front "
		     "door for kvm-unit-tests; not QEMU)\n"
		     "usage: kut-qemu -kernel FILE [-smp N] [-m SIZE] [-append ARGS] "
		     "[-initrd FILE] [-device pc-testdev|isa-debug-exit,...] ...");
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "-device") &&
	    (!strcmp(argv[2], "?") || !strcmp(argv[2], "help"))) {
		for (size_t i = 0; i < NR_DEVICES; i++)
			printf("name \"%s\", bus ISA\n", devices[i][0]);
		return 0;
	}
	parse(&c, argc, argv);
	if (stat(c.kernel, &st) || !S_ISREG(st.st_mode)) {
		/*
		 * The runner's probe: every option is judged first. With a real
		 * kernel mini-kvm refuses a bad --cpu itself, the same way.
		 */
		if (c.cpu_spec)
			check_cpu(mini_kvm, c.cpu_spec);
		refuse("-kernel", "could not load kernel '%s': no such file", c.kernel);
	}
	build(&c, mini_kvm);
	if (getenv("KUT_QEMU_PRINT") && !strcmp(getenv("KUT_QEMU_PRINT"), "1")) {
		print_command(&c);
		return 0;
	}
	execv(mini_kvm, (char **)c.argv);
	refuse(mini_kvm, "cannot run it: %s", strerror(errno));
}
