// SPDX-License-Identifier: MIT
/*
 * The console of the mini-kvm command: the guests' output, written in
 * whole lines (prefixed with the guest's name when several run) so that
 * lines never interleave mid-line; stdin, for the first guest only; and
 * the terminal's raw mode. Every wait, for stdin or for a stdout that is
 * not being read, goes through vcpu_wait_fd(), which the library's time
 * limit and stop cut short.
 *
 * On a terminal, guest output is shown, not obeyed: a guest must not be
 * able to make the terminal answer queries (the answers would arrive as
 * input), retitle it, write the clipboard, hide mini-kvm's own messages or
 * forge another guest's prefix. So escape sequences and the other control
 * characters are shown as ^[ and the like, and the C1 controls (U+0080 to
 * U+009F in UTF-8) as M-^[ and so on, unless --raw-console. A pipe or a
 * file gets the guest's bytes exactly.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm.h"
#include "mini-kvm/device.h"

/* On the way out, how long stdout gets to take what is left. */
#define EXIT_FLUSH_MS 1000

static bool prefix_lines, stdin_is_tty, visible;
static int out_fd = STDOUT_FILENO;
static uint64_t exit_deadline_ns; /* set: the exit path's flush, no vCPU to wait on */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- output: whole lines, one write() each ---- */

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed stderr: the bytes go nowhere */
		p += n;
		len -= n;
	}
}

/*
 * Until stdout takes more: for as long as the guest may run (vcpu), or on
 * the way out until EXIT_FLUSH_MS have passed (no vcpu). False: give up.
 */
static bool wait_stdout(struct vcpu *vcpu)
{
	struct pollfd pfd = { .fd = out_fd, .events = POLLOUT };
	uint64_t now = now_ns();

	if (vcpu)
		return vcpu_wait_fd(vcpu, out_fd, POLLOUT);
	return now < exit_deadline_ns && poll(&pfd, 1, (exit_deadline_ns - now) / 1000000 + 1) == 1;
}

/* Returns how many bytes could not be written. */
static size_t write_out(struct vcpu *vcpu, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(out_fd, p, len);

		if (n > 0) {
			p += n;
			len -= n;
		} else if (!(n < 0 && errno == EINTR) &&
			   !(n < 0 && errno == EAGAIN && wait_stdout(vcpu))) {
			break; /* closed, failed, or no more time to wait */
		}
	}
	return len;
}

/*
 * The console's lock, taken as long as the guest may run: another guest
 * that holds it may be waiting for a stdout nobody reads.
 */
static bool lock_out(struct vcpu *vcpu)
{
	struct timespec ts;

	for (;;) {
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 10 * 1000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		if (!pthread_mutex_timedlock(&out_lock, &ts))
			return true;
		if (vcpu && vcpu_should_stop(vcpu))
			return false;
	}
}

/*
 * Writes what g has buffered, with its prefix when several guests run;
 * then a prefixed line always ends with a newline. Called under out_lock.
 */
static void emit(struct guest *g, struct vcpu *vcpu)
{
	char buf[OUT_LINE_MAX + sizeof(g->name) + 32];
	size_t n = 0;

	if (!g->out_len)
		return;
	if (prefix_lines)
		n = snprintf(buf, sizeof(buf), "%s%s|%s ", g->color, g->name,
			     g->color[0] ? "\033[0m" : "");
	memcpy(buf + n, g->out, g->out_len);
	n += g->out_len;
	if (prefix_lines && buf[n - 1] != '\n')
		buf[n++] = '\n';
	__atomic_add_fetch(&g->dropped, write_out(vcpu, buf, n), __ATOMIC_SEQ_CST);
	g->out_len = 0;
}

static void put_byte(struct guest *g, struct vcpu *vcpu, char c)
{
	g->out[g->out_len++] = c;
	/* A line longer than the buffer is cut into several. */
	if (c == '\n' || g->out_len == sizeof(g->out))
		emit(g, vcpu);
}

/* c, a control character, as ^X, or with prefix "M-" (a C1 control). */
static void put_caret(struct guest *g, struct vcpu *vcpu, const char *prefix, unsigned char c)
{
	while (*prefix)
		put_byte(g, vcpu, *prefix++);
	put_byte(g, vcpu, '^');
	put_byte(g, vcpu, c ^ 0x40); /* 0x1b: '[', 0x7f: '?' */
}

/*
 * One guest byte, made harmless for a terminal. Tab, newline, carriage
 * return and backspace pass (the 1K OS's line editor echoes "\b \b");
 * with several guests only a CR that ends a line, and no backspace, since
 * both could move the cursor back over the prefix. A CR (several guests)
 * or a 0xC2 is held until the next byte says what it was.
 */
/* The controls that pass: they move the cursor only within its line. */
static bool passes(unsigned char c)
{
	return c == '\t' || c == '\n' || (!prefix_lines && (c == '\r' || c == '\b'));
}

static void put_visible(struct guest *g, struct vcpu *vcpu, unsigned char c)
{
	unsigned char held = g->held;

	g->held = 0;
	if (held == 0xc2 && c >= 0x80 && c < 0xa0) {
		put_caret(g, vcpu, "M-", c - 0x80);
		return;
	}
	if (held == 0xc2 || (held == '\r' && c == '\n'))
		put_byte(g, vcpu, held);
	else if (held == '\r')
		put_caret(g, vcpu, "", held);
	if (c == 0xc2 || (c == '\r' && prefix_lines))
		g->held = c;
	else if (c == 0x7f || (c < 0x20 && !passes(c)))
		put_caret(g, vcpu, "", c);
	else
		put_byte(g, vcpu, c);
}

/* The console's write(): HC_PUTCHAR, HC_WRITE and COM1 land here. */
void guest_write(void *opaque, struct vcpu *vcpu, const void *data, size_t len)
{
	struct guest *g = opaque;
	const unsigned char *p = data;

	if (!lock_out(vcpu)) {
		__atomic_add_fetch(&g->dropped, len, __ATOMIC_SEQ_CST);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		if (visible)
			put_visible(g, vcpu, p[i]);
		else
			put_byte(g, vcpu, p[i]);
	}
	/* Linux never says it waits for input: its prompt must show at once. */
	if (g->is_linux && !prefix_lines)
		emit(g, vcpu);
	pthread_mutex_unlock(&out_lock);
}

/* Before a guest waits for input: its prompt must show. */
static void flush_guest(struct guest *g, struct vcpu *vcpu)
{
	if (!lock_out(vcpu))
		return;
	emit(g, vcpu);
	pthread_mutex_unlock(&out_lock);
}

/*
 * The guest has ended: what it wrote goes out, a byte held back included
 * (alone it is harmless), and a note if stdout could not take all of it.
 * Called under console_lock().
 */
void guest_output_end(struct guest *g, struct vcpu *vcpu)
{
	uint64_t dropped;

	if (g->held)
		g->out[g->out_len++] = g->held;
	g->held = 0;
	emit(g, vcpu);
	dropped = __atomic_exchange_n(&g->dropped, 0, __ATOMIC_SEQ_CST);
	if (dropped)
		fprintf(stderr,
			"mini-kvm: %s: %llu bytes of output dropped: stdout was not being read\n",
			g->arg, (unsigned long long)dropped);
}

/*
 * On the way out. A guest thread stuck with the lock held (a stop that
 * did not reach it) costs its bytes rather than the exit.
 */
void flush_all(void)
{
	struct timespec ts;

	exit_deadline_ns = now_ns() + EXIT_FLUSH_MS * 1000000ull;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec++;
	if (pthread_mutex_timedlock(&out_lock, &ts))
		return;
	for (int i = 0; i < nr_guests; i++)
		guest_output_end(&guests[i], NULL);
	pthread_mutex_unlock(&out_lock);
}

/*
 * The --verbose log of one of several guests: stderr, each line prefixed
 * like the guest's output, so that four VMs' "vcpu0:" lines stay apart.
 */
static ssize_t log_write(void *cookie, const char *buf, size_t len)
{
	struct guest *g = cookie;
	size_t done = 0;

	pthread_mutex_lock(&out_lock);
	while (done < len) {
		const char *nl = memchr(buf + done, '\n', len - done);
		size_t n = nl ? (size_t)(nl - buf - done) + 1 : len - done;

		if (g->log_bol) {
			write_all(STDERR_FILENO, g->name, strlen(g->name));
			write_all(STDERR_FILENO, "| ", 2);
		}
		write_all(STDERR_FILENO, buf + done, n);
		g->log_bol = nl != NULL;
		done += n;
	}
	pthread_mutex_unlock(&out_lock);
	return len;
}

FILE *guest_log(struct guest *g)
{
	cookie_io_functions_t io = { .write = log_write };
	FILE *f;

	if (!prefix_lines)
		return stderr;
	g->log_bol = true;
	f = fopencookie(g, "w", io);
	if (!f)
		return stderr;
	setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

/* ---- input: stdin, for the first guest ---- */

static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;
static unsigned char in_buf[4096];
static size_t in_pos, in_len;
static bool in_eof;

void term_restore(void)
{
	if (tio_saved) {
		/* Flushed: input the guest left unread, such as a terminal's
		 * answers to a --raw-console guest's queries, must not reach
		 * the shell. */
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		tio_saved = 0;
	}
}

/*
 * Byte at a time, no echo (the guest echoes), but ISIG stays on so that
 * Ctrl-C still reaches us as SIGINT. Ctrl-Z and Ctrl-\ go to the guest:
 * stopping or dumping core with the terminal raw would leave it unusable.
 * A guest with a terminal of its own (Linux: keys_to_guest) gets every
 * key as typed, Ctrl-C, Ctrl-S and Enter's CR included; Ctrl-A x stops
 * mini-kvm then (console_start_input()).
 */
void term_raw(bool keys_to_guest)
{
	struct termios raw;

	if (!stdin_is_tty || tcgetattr(STDIN_FILENO, &saved_tio))
		return;
	raw = saved_tio;
	raw.c_lflag &= ~(ICANON | ECHO | IEXTEN | (keys_to_guest ? ISIG : 0));
	if (keys_to_guest)
		raw.c_iflag &= ~(ICRNL | INLCR | IGNCR | IXON);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	raw.c_cc[VSUSP] = _POSIX_VDISABLE;
	raw.c_cc[VQUIT] = _POSIX_VDISABLE;
	tio_saved = 1;
	tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

static int read_stdin(void)
{
	ssize_t n;

	do
		n = read(STDIN_FILENO, in_buf, sizeof(in_buf));
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -1;
	in_pos = 0;
	in_len = n;
	return 0;
}

/* The console's getc(): HC_GETCHAR and COM1 reads land here. */
int guest_getc(void *opaque, struct vcpu *vcpu, bool wait)
{
	struct guest *g = opaque;
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	unsigned char c;

	if (!g->has_stdin || in_eof)
		return CONSOLE_EOF;
	if (in_pos == in_len) {
		if (poll(&pfd, 1, 0) != 1) {
			if (!wait)
				return CONSOLE_EMPTY;
			if (!prefix_lines)
				flush_guest(g, vcpu);
			/* Cut short: the run loop ends the guest, it sees no EOF. */
			while (!vcpu_wait_fd(vcpu, STDIN_FILENO, POLLIN))
				if (vcpu_should_stop(vcpu) || !gdb_vcpu_park_in_wait(vcpu))
					return CONSOLE_EOF;
		}
		if (read_stdin()) {
			in_eof = true;
			return CONSOLE_EOF;
		}
	}
	c = in_buf[in_pos++];
	if (stdin_is_tty && c == 4) { /* Ctrl-D: raw mode has no VEOF of its own */
		in_eof = true;
		return CONSOLE_EOF;
	}
	return c;
}

/* ---- input pushed to a Linux guest's COM1, which waits for its interrupt ---- */

#define ESCAPE_KEY 0x01 /* Ctrl-A, as QEMU's */
#define INPUT_RETRY_NS 10000000L

static void push_input(struct guest *g, const unsigned char *p, size_t len)
{
	const struct timespec retry = { .tv_nsec = INPUT_RETRY_NS };

	while (len) {
		size_t n = uart_receive(g->vm, p, len);

		/* Nothing taken: the guest is behind, or not listening yet. */
		if (!n)
			nanosleep(&retry, NULL);
		p += n;
		len -= n;
	}
}

/*
 * On a terminal: Ctrl-A x stops mini-kvm (as SIGINT does), Ctrl-A Ctrl-A
 * types one Ctrl-A, and Ctrl-A before any other key types both.
 */
static size_t escape_keys(unsigned char *buf, size_t len, bool *escaped)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = buf[i];

		if (*escaped) {
			*escaped = false;
			if (c == 'x' || c == 'X') {
				kill(getpid(), SIGINT);
				return out;
			}
			if (c != ESCAPE_KEY)
				buf[out++] = ESCAPE_KEY;
			buf[out++] = c;
		} else if (c == ESCAPE_KEY) {
			*escaped = true;
		} else {
			buf[out++] = c;
		}
	}
	return out;
}

/*
 * stdin to the guest, until its end, which reaches the guest as a
 * terminal's end of input does: Ctrl-D (twice after a partial line).
 */
static void *input_thread(void *arg)
{
	struct guest *g = arg;
	unsigned char buf[256], last = '\n';
	bool escaped = false;
	ssize_t n;

	for (;;) {
		n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		last = buf[n - 1];
		if (stdin_is_tty)
			n = escape_keys(buf, n, &escaped);
		push_input(g, buf, n);
	}
	push_input(g, (const unsigned char *)"\4\4", last == '\n' ? 1 : 2);
	return NULL;
}

void console_start_input(struct guest *g)
{
	pthread_attr_t attr;
	pthread_t thread;

	/* Detached: it may wait in read() for ever, and leaves with the process. */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&thread, &attr, input_thread, g))
		fprintf(stderr, "mini-kvm: %s: cannot start the input thread: stdin is not read\n",
			g->arg);
	pthread_attr_destroy(&attr);
}

/* ---- setup and stop ---- */

/*
 * A pipe or a terminal that is not being read must not hold a guest past
 * its time limit or a stop: the guests write to stdout through a
 * non-blocking file of their own (a new open of it, so that the file that
 * stdout shares with the shell stays blocking) and wait with
 * vcpu_wait_fd(). A regular file never blocks, and must keep the offset it
 * shares: it is written as it is; so is anything that cannot be opened
 * again (a socket, or no /proc).
 */
static int open_output(void)
{
	struct stat st;
	int fd;

	if (fstat(STDOUT_FILENO, &st) || !(S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
		return STDOUT_FILENO;
	fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	return fd < 0 ? STDOUT_FILENO : fd;
}

/*
 * With several guests, lines get prefixes; stdin may be a terminal; on a
 * terminal stdout, guest output is shown harmless unless raw.
 */
void console_setup(bool prefix, bool raw)
{
	prefix_lines = prefix;
	stdin_is_tty = isatty(STDIN_FILENO);
	visible = !raw && isatty(STDOUT_FILENO);
	out_fd = open_output();
}

void console_lock(void)
{
	pthread_mutex_lock(&out_lock);
}

void console_unlock(void)
{
	pthread_mutex_unlock(&out_lock);
}
