/* SPDX-License-Identifier: MIT */
/*
 * The user-side library: system-call wrappers, buffered printf, and a
 * line editor. The console is raw (no host line discipline under mini-kvm
 * on a terminal, none on QEMU's serial line), so readline echoes what it
 * reads and handles backspace and CR itself.
 */
#include "user.h"

static int syscall3(int n, u32 a, u32 b)
{
	int r;

	__asm__ volatile("int $0x80"
			 : "=a"(r)
			 : "a"(n), "b"(a), "c"(b)
			 : "memory");
	return r;
}

void putchar(char c)
{
	syscall3(SYS_PUTCHAR, (u8)c, 0);
}

int getchar(void)
{
	return syscall3(SYS_GETCHAR, 0, 0);
}

void exit(int status)
{
	flush();
	syscall3(SYS_EXIT, (u32)status, 0);
	for (;;)
		;
}

int write(const char *buf, u32 len)
{
	return syscall3(SYS_WRITE, (u32)buf, len);
}

u32 ticks(void)
{
	return (u32)syscall3(SYS_TICKS, 0, 0);
}

void sleep(u32 nticks)
{
	syscall3(SYS_SLEEP, nticks, 0);
}

void yield(void)
{
	syscall3(SYS_YIELD, 0, 0);
}

int spawn(int (*program)(void))
{
	return syscall3(SYS_SPAWN, (u32)program, 0);
}

int wait(int pid)
{
	return syscall3(SYS_WAIT, (u32)pid, 0);
}

void kernel_fault_test(void)
{
	syscall3(SYS_KFAULT, 0, 0);
}

/* crt0.S calls this with the program the process was spawned for. */
void run_program(int (*program)(void))
{
	exit(program ? program() : shell_main());
}

/* Output is buffered by the line: one system call per line, not per byte. */
static char out_buf[256];
static u32 out_len;

void flush(void)
{
	if (out_len)
		write(out_buf, out_len);
	out_len = 0;
}

static void buffered_putc(char c)
{
	out_buf[out_len++] = c;
	if (c == '\n' || out_len == sizeof(out_buf))
		flush();
}

void printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	format(buffered_putc, fmt, ap);
	va_end(ap);
}

/*
 * Read a line into buf (without its end), echoing as we go. A line ends
 * at CR, LF, or CR LF (a terminal sends CR, a pipe LF). Backspace or DEL
 * rubs out a character. Returns the length, or -1 at end of input: the
 * console's end, or Ctrl-D. Either ends a partly typed line first, which
 * is returned as if it had ended properly.
 */
int readline(const char *prompt, char *buf, int size)
{
	static int after_cr;
	int len = 0;
	int c;

	printf("%s", prompt);
	flush();
	for (;;) {
		c = getchar();
		if (c == '\n' && after_cr) {
			after_cr = 0;	/* the LF of a CR LF pair */
			continue;
		}
		after_cr = c == '\r';
		/* Ctrl-D acts as the end of input does, as on a terminal. */
		if (c < 0 || c == 4) {
			if (len == 0) {
				printf("\n");
				flush();
				return -1;
			}
			break;		/* a last line without its end */
		}
		if (c == '\r' || c == '\n')
			break;
		if ((c == '\b' || c == 0x7f) && len > 0) {
			len--;
			printf("\b \b");
			flush();
		} else if (c >= ' ' && c < 0x7f && len < size - 1) {
			buf[len++] = (char)c;
			putchar((char)c);
		}
	}
	buf[len] = '\0';
	printf("\n");
	return len;
}

const char *skip_spaces(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * Parse an optionally negative decimal number. Returns what follows it,
 * or NULL if there is no number or it does not fit in an int.
 */
const char *parse_int(const char *s, int *value)
{
	int negative = *s == '-';
	int v = 0;

	if (negative)
		s++;
	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		/* Build it negative: -2147483648 fits, its opposite not. */
		if (__builtin_mul_overflow(v, 10, &v) ||
		    __builtin_sub_overflow(v, *s - '0', &v))
			return NULL;
	}
	if (!negative && __builtin_mul_overflow(v, -1, &v))
		return NULL;
	*value = v;
	return s;
}
