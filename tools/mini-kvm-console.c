// SPDX-License-Identifier: MIT
/*
 * The console of the mini-kvm command: the guests' output, written in
 * whole lines (prefixed with the guest's name when several run) so that
 * lines never interleave mid-line; stdin, for the first guest only, waited
 * for with vcpu_wait_fd(), which the library's time limit and stop cut
 * short; and the terminal's raw mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "mini-kvm.h"

static bool prefix_lines, stdin_is_tty;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- output: whole lines, one write() each ---- */

static void write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed stdout: the bytes go nowhere */
		p += n;
		len -= n;
	}
}

/*
 * Writes what g has buffered, with its prefix when several guests run;
 * then a prefixed line always ends with a newline. Called under out_lock.
 */
void guest_emit(struct guest *g)
{
	char buf[OUT_LINE_MAX + sizeof(g->name) + 32];
	size_t n = 0;

	if (!g->out_len)
		return;
	if (!prefix_lines) {
		write_all(STDOUT_FILENO, g->out, g->out_len);
		g->out_len = 0;
		return;
	}
	n = snprintf(buf, sizeof(buf), "%s%s|%s ", g->color, g->name, g->color[0] ? "\033[0m" : "");
	memcpy(buf + n, g->out, g->out_len);
	n += g->out_len;
	if (buf[n - 1] != '\n')
		buf[n++] = '\n';
	write_all(STDOUT_FILENO, buf, n);
	g->out_len = 0;
}

/* The console's write(): HC_PUTCHAR, HC_WRITE and COM1 land here. */
void guest_write(void *opaque, struct vcpu *vcpu, const void *data, size_t len)
{
	struct guest *g = opaque;
	const char *p = data;

	(void)vcpu;
	pthread_mutex_lock(&out_lock);
	for (size_t i = 0; i < len; i++) {
		g->out[g->out_len++] = p[i];
		/* A line longer than the buffer is cut into several. */
		if (p[i] == '\n' || g->out_len == sizeof(g->out))
			guest_emit(g);
	}
	pthread_mutex_unlock(&out_lock);
}

void flush_guest(struct guest *g)
{
	pthread_mutex_lock(&out_lock);
	guest_emit(g);
	pthread_mutex_unlock(&out_lock);
}

/*
 * On the way out. A guest thread stuck in write() (a stdout nobody reads)
 * holds the lock: then give up on its bytes rather than hang the exit.
 */
void flush_all(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec++;
	if (pthread_mutex_timedlock(&out_lock, &ts))
		return;
	for (int i = 0; i < nr_guests; i++)
		guest_emit(&guests[i]);
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
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = 0;
	}
}

/*
 * Byte at a time, no echo (the guest echoes), but ISIG stays on so that
 * Ctrl-C still reaches us as SIGINT. Ctrl-Z and Ctrl-\ go to the guest:
 * stopping or dumping core with the terminal raw would leave it unusable.
 */
void term_raw(void)
{
	struct termios raw;

	if (!stdin_is_tty || tcgetattr(STDIN_FILENO, &saved_tio))
		return;
	raw = saved_tio;
	raw.c_lflag &= ~(ICANON | ECHO | IEXTEN);
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
				flush_guest(g); /* a prompt must show before we block */
			/* Cut short: the run loop ends the guest, it sees no EOF. */
			if (!vcpu_wait_fd(vcpu, STDIN_FILENO, POLLIN))
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

/* ---- setup and stop ---- */

/* With several guests, lines get prefixes; stdin may be a terminal. */
void console_setup(bool prefix)
{
	prefix_lines = prefix;
	stdin_is_tty = isatty(STDIN_FILENO);
}

void console_lock(void)
{
	pthread_mutex_lock(&out_lock);
}

void console_unlock(void)
{
	pthread_mutex_unlock(&out_lock);
}
