// SPDX-License-Identifier: MIT
/* The plainest console: the guest's bytes to one fd, its input from another. */
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include "mini-kvm/kvm.h"

static void fd_write(void *opaque, const void *buf, size_t len)
{
	struct fd_console *fds = opaque;
	const char *p = buf;

	while (len) {
		ssize_t n = write(fds->out_fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* a closed stdout: the guest's bytes go nowhere */
		p += n;
		len -= n;
	}
}

static int fd_getc(void *opaque, bool wait)
{
	struct fd_console *fds = opaque;
	struct pollfd pfd = { .fd = fds->in_fd, .events = POLLIN };
	unsigned char c;
	ssize_t n;

	if (!wait && poll(&pfd, 1, 0) == 0)
		return CONSOLE_EMPTY;
	do
		n = read(fds->in_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? c : CONSOLE_EOF;
}

void console_fd_init(struct console *console, struct fd_console *fds)
{
	*console = (struct console){ .write = fd_write, .getc = fd_getc, .opaque = fds };
}
