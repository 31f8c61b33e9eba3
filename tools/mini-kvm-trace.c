// SPDX-License-Identifier: MIT
/*
 * What --trace=FILE and --stats make of the library's exit timing
 * (lib/timing.c): the trace as Chrome trace-event JSON, which Perfetto
 * (ui.perfetto.dev), chrome://tracing and jq read, and the table of time
 * per exit reason that --stats prints.
 *
 * The trace: one process per guest (pid = its place on the command line,
 * from 1; named after the guest), one thread per vCPU (tid = its id). Each
 * exit is one complete event ("ph":"X", "cat":"exit") named by its reason,
 * from the KVM_RUN that ended in it to the end of mini-kvm's handling; a
 * "mini-kvm" event ("cat":"vmm") nested inside it covers the handling, so
 * the time before it is the guest's (Perfetto shows that as the exit's
 * self time). Times are microseconds since mini-kvm started.
 *
 * Each vCPU thread formats its records into a text buffer of its own and
 * takes the file's lock for one fwrite() per TIMING_RECORDS exits. The
 * file is finished (the names, then the closing brackets) once, by
 * trace_finish(): from main() after the guests, or from atexit() on any
 * other way out. A vCPU still writing then is shut out, so the file stays
 * valid JSON.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mini-kvm.h"

/* The longest event pair put_exit() writes is about 560 bytes. */
#define EVENT_MAX 640
#define TEXT_SIZE ((size_t)TIMING_RECORDS * EVENT_MAX)

struct trace_row {
	int pid, tid;
	char *text; /* TEXT_SIZE bytes, allocated on first use */
};

static struct {
	FILE *file;
	const char *path;
	uint64_t origin_ns;
	pthread_mutex_t lock;
	bool any_event; /* the next event needs a comma before it */
	bool finished;
	int error; /* the first write error, as errno */
} trace = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct trace_row rows[MAX_GUESTS][VM_MAX_VCPUS];

static const char *reason_name(uint32_t reason)
{
	return reason == TIMING_KICKED ? "kick (KVM_RUN -EINTR)" : kvm_exit_reason_name(reason);
}

/* ---- the JSON ---- */

/*
 * Text appended to a buffer that never overflows: what does not fit is cut
 * (the sink then refuses the lot). No printf: a traced exit costs what
 * formatting it does, and these are several times cheaper.
 */
struct text {
	char *p;
	size_t len, cap;
};

static void put_mem(struct text *t, const char *s, size_t n)
{
	if (n > t->cap - 1 - t->len)
		n = t->cap - 1 - t->len;
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void put(struct text *t, const char *s)
{
	put_mem(t, s, strlen(s));
}

/* v in decimal, with at least digits digits. */
static void put_dec(struct text *t, uint64_t v, int digits)
{
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = '0' + v % 10;
		v /= 10;
	} while (v || (int)sizeof(buf) - i < digits);
	put_mem(t, buf + i, sizeof(buf) - i);
}

/* "0x1f" */
static void put_hex(struct text *t, uint64_t v)
{
	char buf[20];
	int i = sizeof(buf);

	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	put_mem(t, buf + i, sizeof(buf) - i);
}

/* ,"key":N where N is ns as microseconds with every digit: 12.345 */
static void put_us(struct text *t, const char *key, uint64_t ns)
{
	put(t, ",\"");
	put(t, key);
	put(t, "\":");
	put_dec(t, ns / 1000, 1);
	put(t, ".");
	put_dec(t, ns % 1000, 3);
}

/* "pid":P,"tid":T */
static void put_ids(struct text *t, const struct trace_row *row)
{
	put(t, ",\"pid\":");
	put_dec(t, row->pid, 1);
	put(t, ",\"tid\":");
	put_dec(t, row->tid, 1);
}

/* The port or address of an IO or MMIO exit, its data, a hypercall's name. */
static void put_access(struct text *t, const struct exit_record *rec)
{
	bool io = rec->reason == KVM_EXIT_IO;

	put(t, io ? ",\"port\":\"" : ",\"addr\":\"");
	put_hex(t, rec->addr);
	put(t, "\",\"dir\":\"");
	put(t, rec->write ? (io ? "out" : "write") : (io ? "in" : "read"));
	put(t, io ? "\",\"size\":" : "\",\"len\":");
	put_dec(t, rec->size, 1);
	put(t, ",\"value\":\"");
	put_hex(t, rec->value);
	put(t, "\"");
	if (io && rec->count != 1) {
		put(t, ",\"count\":");
		put_dec(t, rec->count, 1);
	}
	if (io && rec->addr == HC_PORT && rec->write && rec->size == 1) {
		put(t, ",\"hypercall\":\"");
		put(t,
		    hypercall_names[rec->value < HC_NR_FUNCTIONS ? rec->value : HC_NR_FUNCTIONS]);
		put(t, "\"");
	}
}

/* One exit: its event, then the "mini-kvm" event nested in it, a line each. */
static void put_exit(struct text *t, const struct trace_row *row, const struct exit_record *rec)
{
	put(t, ",\n{\"name\":\"");
	put(t, reason_name(rec->reason));
	put(t, "\",\"cat\":\"exit\",\"ph\":\"X\"");
	put_ids(t, row);
	put_us(t, "ts", rec->enter_ns - trace.origin_ns);
	put_us(t, "dur", rec->done_ns - rec->enter_ns);
	put(t, ",\"args\":{\"reason\":");
	put_dec(t, rec->reason, 1);
	put_us(t, "guest_us", rec->exit_ns - rec->enter_ns);
	put_us(t, "mini_kvm_us", rec->done_ns - rec->exit_ns);
	if (rec->reason == KVM_EXIT_IO || rec->reason == KVM_EXIT_MMIO)
		put_access(t, rec);
	put(t, "}},\n{\"name\":\"mini-kvm\",\"cat\":\"vmm\",\"ph\":\"X\"");
	put_ids(t, row);
	put_us(t, "ts", rec->exit_ns - trace.origin_ns);
	put_us(t, "dur", rec->done_ns - rec->exit_ns);
	put(t, "}");
}

/* Under the lock: text of len bytes, each event after a comma but the first. */
static void trace_write(const char *text, size_t len)
{
	if (!trace.any_event && len) {
		text++; /* the comma */
		len--;
	}
	if (len && fwrite(text, 1, len, trace.file) != len && !trace.error)
		trace.error = errno ? errno : EIO;
	trace.any_event = trace.any_event || len;
}

/* The library's sink, on the vCPU's own thread: format here, write locked. */
static void trace_sink(void *opaque, struct vcpu *vcpu, const struct exit_record *recs, size_t n)
{
	struct trace_row *row = opaque;
	struct text t = { .p = row->text, .cap = TEXT_SIZE };

	(void)vcpu;
	if (!row->text)
		t.p = row->text = malloc(TEXT_SIZE);
	for (size_t i = 0; t.p && i < n; i++)
		put_exit(&t, row, &recs[i]);
	pthread_mutex_lock(&trace.lock);
	if (!t.p && !trace.error)
		trace.error = ENOMEM;
	else if (t.len == TEXT_SIZE - 1 && !trace.error)
		trace.error = ENOBUFS; /* cannot be: EVENT_MAX is ample */
	else if (!trace.finished)
		trace_write(t.p, t.len);
	pthread_mutex_unlock(&trace.lock);
}

/* A guest's name as a JSON string's contents: quotes, backslashes, controls escaped. */
static void put_json_string(FILE *f, const char *s)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
}

/* Under the lock: which process is which guest, which thread which vCPU. */
static void write_names(void)
{
	char line[160];

	for (int i = 0; i < nr_guests; i++) {
		if (!guests[i].vm)
			continue;
		snprintf(line, sizeof(line),
			 ",\n{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%d,\"args\":{\"name\":"
			 "\"",
			 i + 1);
		trace_write(line, strlen(line));
		put_json_string(trace.file, guests[i].name);
		fprintf(trace.file,
			"\"}},\n{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":%d,"
			"\"args\":{\"sort_index\":%d}}",
			i + 1, i + 1);
		for (int v = 0; v < guests[i].vm->nr_vcpus; v++)
			fprintf(trace.file,
				",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":%d,\"tid\":%d,"
				"\"args\":{\"name\":\"vCPU %d\"}}",
				i + 1, v, v);
	}
}

/* ---- the file's life ---- */

int trace_open(const char *path, uint64_t origin_ns, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0666);

	if (fd < 0 || !(trace.file = fdopen(fd, "w"))) {
		snprintf(err, errlen, "--trace=%s: cannot write the trace there: %s", path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	trace.path = path;
	trace.origin_ns = origin_ns;
	fputs("{\"traceEvents\":[", trace.file);
	atexit(trace_finish);
	return 0;
}

/* Times every vCPU of g's VM; with a trace, each of their exits goes there. */
int timing_attach(struct guest *g)
{
	int idx = g - guests;

	for (int v = 0; v < g->vm->nr_vcpus; v++) {
		struct trace_row *row = &rows[idx][v];
		int ret;

		*row = (struct trace_row){ .pid = idx + 1, .tid = v };
		ret = __vcpu_timing_start(g->vm->vcpus[v], trace.file ? trace_sink : NULL, row);
		if (ret)
			return ret;
	}
	return 0;
}

void trace_finish(void)
{
	pthread_mutex_lock(&trace.lock);
	if (trace.file && !trace.finished) {
		trace.finished = true;
		write_names();
		fprintf(trace.file,
			"\n],\n\"otherData\":{\"generator\":\"mini-kvm\",\"ts\":\"microseconds "
			"since "
			"mini-kvm started\",\"exit\":\"from KVM_RUN to the end of its handling\","
			"\"mini-kvm\":\"the handling\"}}\n");
		if ((fflush(trace.file) || ferror(trace.file)) && !trace.error)
			trace.error = errno ? errno : EIO;
		if (fclose(trace.file) && !trace.error)
			trace.error = errno;
		if (trace.error)
			fprintf(stderr, "mini-kvm: --trace=%s: the trace is incomplete: %s\n",
				trace.path, strerror(trace.error));
	}
	pthread_mutex_unlock(&trace.lock);
}

/* ---- --stats: time per exit reason ---- */

/* A bucket's bound, us as a short figure: "16us", "1.02ms", "2.1s". */
static void format_bound(char *buf, size_t len, uint64_t us)
{
	if (us < 1000)
		snprintf(buf, len, "%lluus", (unsigned long long)us);
	else if (us < 1000000)
		snprintf(buf, len, "%.3gms", us / 1e3);
	else
		snprintf(buf, len, "%.3gs", us / 1e6);
}

static void print_buckets(const struct exit_time *et)
{
	char lo[16], hi[16];

	fprintf(stderr, "     ");
	for (unsigned int b = 0; b < TIMING_BUCKETS; b++) {
		if (!et->buckets[b])
			continue;
		format_bound(lo, sizeof(lo), b ? 1ull << (b - 1) : 0);
		format_bound(hi, sizeof(hi), 1ull << b);
		if (!b)
			fprintf(stderr, " <%s:%llu", hi, (unsigned long long)et->buckets[b]);
		else if (b == TIMING_BUCKETS - 1)
			fprintf(stderr, " >=%s:%llu", lo, (unsigned long long)et->buckets[b]);
		else
			fprintf(stderr, " %s-%s:%llu", lo, hi, (unsigned long long)et->buckets[b]);
	}
	fputc('\n', stderr);
}

static void print_vcpu_times(const struct vcpu *vcpu)
{
	fprintf(stderr,
		"  exit times, vCPU %d (guest: in KVM_RUN up to the exit; mini-kvm: "
		"handling it):\n",
		vcpu->id);
	for (int r = 0; r < TIMING_REASONS; r++) {
		const struct exit_time *et = &vcpu->timing->reasons[r];
		double total_us = (et->guest_ns + et->vmm_ns) / 1e3;

		if (!et->count)
			continue;
		fprintf(stderr,
			"    %-23s count=%llu total=%.3fms mean=%.2fus (guest %.2fus, "
			"mini-kvm %.2fus)\n",
			reason_name(r), (unsigned long long)et->count, total_us / 1e3,
			total_us / et->count, et->guest_ns / 1e3 / et->count,
			et->vmm_ns / 1e3 / et->count);
		print_buckets(et);
	}
}

/* For --stats, after the counts: each vCPU's time per exit reason. */
void print_exit_times(const struct guest *g)
{
	for (int v = 0; v < g->vm->nr_vcpus; v++)
		if (g->vm->vcpus[v]->timing)
			print_vcpu_times(g->vm->vcpus[v]);
}
