/*
 * native:rtc — the clock and randomness a node needs across deep sleep, which
 * Moddable's JavaScript modules do not offer on ESP32:
 *   rtcMs()     milliseconds counted by the RTC since power-on; keeps counting
 *               through deep sleep (Time.ticks restarts at every wake).
 *   unixMs()    wall-clock Unix time in ms, or -1 while it was never set
 *               (Moddable's Time.set sets it; the RTC keeps it through deep sleep).
 *   randomU32() 32 bits from the hardware RNG (esp_random), for the privacy noise.
 */
#include "xsmc.h"
#include "xsHost.h"
#include <sys/time.h>
#include "esp_random.h"
#include "esp_rtc_time.h"

/* Anything before 2020-01-01 means the wall clock was never set. */
#define UNIX_2020_S 1577836800

void xs_rtc_ms(xsMachine *the)
{
	uint64_t us = esp_rtc_get_time_us();
	xsmcSetNumber(xsResult, (double)(us / 1000));
}

void xs_rtc_unix_ms(xsMachine *the)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	if (tv.tv_sec < UNIX_2020_S)
		xsmcSetInteger(xsResult, -1);
	else
		xsmcSetNumber(xsResult, (double)tv.tv_sec * 1000.0 + (double)(tv.tv_usec / 1000));
}

void xs_rtc_random_u32(xsMachine *the)
{
	xsmcSetNumber(xsResult, (double)esp_random());
}
