// SPDX-License-Identifier: MIT
/*
 * The PC's CMOS clock (MC146818) at ports 0x70 (index) and 0x71 (data),
 * read-only: the host's UTC time in BCD, 24-hour mode. Without it a kernel
 * that reads the clock (Linux, before kvmclock or for its rtc driver)
 * spins on all-ones, one exit per read. "Update in progress" shows once
 * a second: in the first read of register A in each second of the host's
 * clock. The chip shows it for 244 us before each update, but a window in
 * time would be missed by a guest whose exits are slower than that, and a
 * guest that waits for an update (kvm-unit-tests' s3) would wait for
 * ever. The other registers (CMOS RAM) read 0 and keep nothing.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mini-kvm/device.h"

#define RTC_INDEX_PORT 0x70
#define RTC_NMI_DISABLE 0x80 /* the index port's top bit is the NMI mask */
#define RTC_REG_A 0x0a
#define RTC_REG_B 0x0b
#define RTC_REG_D 0x0d
#define RTC_REG_B_24H 0x02
#define RTC_REG_D_VALID 0x80
#define RTC_REG_A_DIVIDER 0x26 /* 32.768 kHz, 1024 Hz periodic rate */
#define RTC_REG_A_UIP 0x80
#define RTC_CENTURY 0x32

struct rtc {
	struct device dev;
	pthread_mutex_t lock;
	uint8_t index;
	time_t update_shown; /* the second whose update register A showed */
};

static uint8_t bcd(int v)
{
	return (v / 10) << 4 | v % 10;
}

/*
 * The UTC calendar of a Unix time, in struct tm's fields, without the C
 * library's gmtime_r(): glibc's reads /etc/localtime on its first call,
 * which the command's seccomp filter forbids once guests run. Days are
 * counted in 400-year eras from 0000-03-01, so that the leap day ends each
 * year (Howard Hinnant's civil_from_days).
 */
static void rtc_utc(time_t t, struct tm *tm)
{
	long days = t / 86400, secs = t % 86400;
	long z = days + 719468; /* days since 0000-03-01 */
	long era = z / 146097, doe = z % 146097; /* day of the era */
	long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	long doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from March 1 */
	long mp = (5 * doy + 2) / 153; /* month from March, 0-11 */

	memset(tm, 0, sizeof(*tm));
	tm->tm_sec = secs % 60;
	tm->tm_min = secs / 60 % 60;
	tm->tm_hour = secs / 3600;
	tm->tm_wday = (days + 4) % 7; /* 1970-01-01 was a Thursday */
	tm->tm_mday = doy - (153 * mp + 2) / 5 + 1;
	tm->tm_mon = mp < 10 ? mp + 2 : mp - 10;
	tm->tm_year = era * 400 + yoe + (tm->tm_mon < 2) - 1900;
}

static uint8_t rtc_read(struct rtc *rtc)
{
	time_t now = time(NULL);
	struct tm tm;

	rtc_utc(now, &tm);
	switch (rtc->index) {
	case 0x00:
		return bcd(tm.tm_sec);
	case 0x02:
		return bcd(tm.tm_min);
	case 0x04:
		return bcd(tm.tm_hour);
	case 0x06:
		return bcd(tm.tm_wday + 1);
	case 0x07:
		return bcd(tm.tm_mday);
	case 0x08:
		return bcd(tm.tm_mon + 1);
	case 0x09:
		return bcd(tm.tm_year % 100);
	case RTC_CENTURY:
		return bcd(19 + tm.tm_year / 100);
	case RTC_REG_A:
		if (now == rtc->update_shown)
			return RTC_REG_A_DIVIDER;
		rtc->update_shown = now;
		return RTC_REG_A_DIVIDER | RTC_REG_A_UIP;
	case RTC_REG_B:
		return RTC_REG_B_24H;
	case RTC_REG_D:
		return RTC_REG_D_VALID;
	default:
		return 0;
	}
}

static int rtc_access(struct device *dev, struct vcpu *vcpu, uint64_t offset, void *data,
		      uint32_t len, bool write)
{
	struct rtc *rtc = container_of(dev, struct rtc, dev);
	uint8_t *byte = data;

	(void)vcpu;
	if (len != 1) {
		if (!write)
			memset(data, 0xff, len);
		return VCPU_CONTINUE;
	}
	pthread_mutex_lock(&rtc->lock);
	if (write && offset == 0)
		rtc->index = *byte & ~RTC_NMI_DISABLE;
	else if (!write)
		*byte = offset ? rtc_read(rtc) : 0xff;
	pthread_mutex_unlock(&rtc->lock);
	return VCPU_CONTINUE;
}

static void rtc_release(struct device *dev)
{
	free(container_of(dev, struct rtc, dev));
}

int rtc_add(struct vm *vm)
{
	struct rtc *rtc = calloc(1, sizeof(*rtc));
	int ret;

	if (!rtc)
		return -ENOMEM;
	rtc->dev = (struct device){
		.name = "rtc",
		.base = RTC_INDEX_PORT,
		.len = 2,
		.access = rtc_access,
		.release = rtc_release,
	};
	pthread_mutex_init(&rtc->lock, NULL);
	ret = bus_add(&vm->pio, &rtc->dev);
	if (ret)
		free(rtc);
	return ret;
}
