/* SPDX-License-Identifier: MIT */
/*
 * printf-style formatting and string helpers, shared by the kernel and the
 * user programs (compiled once for each: they share no memory at run time).
 */
#include "common.h"

void *memset(void *dst, int c, u32 n)
{
	u8 *d = dst;

	while (n--)
		*d++ = (u8)c;
	return dst;
}

void *memcpy(void *dst, const void *src, u32 n)
{
	u8 *d = dst;
	const u8 *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

u32 strlen(const char *s)
{
	u32 n = 0;

	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (u8)*a - (u8)*b;
}

/* Print v in base 10 or 16, right-aligned in width, padded with pad. */
static void put_number(void (*out)(char c), u32 v, u32 base, int negative,
		       int width, char pad)
{
	char digits[12];
	int n = 0;

	do {
		digits[n++] = "0123456789abcdef"[v % base];
		v /= base;
	} while (v);
	if (negative)
		width--;
	if (negative && pad == '0')
		out('-');
	for (; width > n; width--)
		out(pad);
	if (negative && pad != '0')
		out('-');
	while (n)
		out(digits[--n]);
}

void format(void (*out)(char c), const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		char pad = ' ';
		int width = 0;
		const char *s;
		int d;

		if (*fmt != '%') {
			out(*fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0';
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		switch (*fmt) {
		case 'd':
			d = va_arg(ap, int);
			/* 0u - d is |d| even for the most negative int. */
			put_number(out, d < 0 ? 0u - (u32)d : (u32)d, 10,
				   d < 0, width, pad);
			break;
		case 'u':
			put_number(out, va_arg(ap, u32), 10, 0, width, pad);
			break;
		case 'x':
			put_number(out, va_arg(ap, u32), 16, 0, width, pad);
			break;
		case 'c':
			out((char)va_arg(ap, int));
			break;
		case 's':
			s = va_arg(ap, const char *);
			for (width -= strlen(s); width > 0; width--)
				out(' ');
			while (*s)
				out(*s++);
			break;
		case '%':
			out('%');
			break;
		default:	/* unknown or truncated: show it as is */
			out('%');
			if (!*fmt)
				return;
			out(*fmt);
		}
	}
}
