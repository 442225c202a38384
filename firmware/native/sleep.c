/*
 * native:sleep — deep sleep with RTC-retained state for Moddable on ESP32 / ESP32-S3.
 *
 * Moddable offers no JavaScript deep sleep on ESP32, so this XS-in-C module
 * provides the host functions that sleep.js binds with XS's Native API:
 *
 *   xs_sleep_deep(ms, ext0Pin, ext0Level, ext0Pull, ext1MaskLow, ext1MaskHigh, ext1Mode, ext1Pull, holdLow, holdHigh)
 *       arms the RTC timer (ms > 0) and the optional ext0 / ext1 GPIO wake
 *       sources, latches the `hold` output pins at their present level (so a
 *       sensor rail can stay powered through a short sleep), then calls
 *       esp_deep_sleep_start(); it never returns. The JS glue validates and
 *       flattens the options so this file needs no xsID_*.
 *   xs_sleep_release(holdLow, holdHigh)  releases held pins after the wake, so
 *       the app can drive them again.
 *   xs_sleep_retain(buffer)    copies up to kRetainMax bytes into RTC slow memory
 *       with a magic word, the length and a CRC-32.
 *   xs_sleep_clear()           forgets the retained bytes.
 *   xs_sleep_retained()        returns a fresh ArrayBuffer with those bytes, or
 *       undefined when the magic, length or CRC do not check out (power cut,
 *       brown-out, first boot, any reset other than a deep-sleep wake).
 *   xs_sleep_reset_reason()    esp_reset_reason() as an integer (8 = deep sleep).
 *   xs_sleep_wake_cause()      bit set of our kWake* flags.
 *   xs_sleep_wake_pins()       array of the GPIOs that woke the chip (ext1
 *       status, or the ext0 pin remembered across the sleep).
 *
 * RTC_DATA_ATTR memory keeps its contents through deep sleep only: the
 * bootloader reloads the .rtc.data section on every other kind of reset, and a
 * power cut loses RTC memory outright. The CRC turns both into "nothing retained".
 */

#include "xsmc.h"
#include "xsHost.h"

#include <string.h>

#include "esp_attr.h"
#include "esp_err.h"
#include "esp_idf_version.h"
#include "esp_sleep.h"
#include "esp_system.h"
#include "driver/gpio.h"
#include "driver/rtc_io.h"
#include "soc/soc_caps.h"

#ifndef MODDEF_SLEEP_RETAIN_MAX
	#define MODDEF_SLEEP_RETAIN_MAX (1024)
#endif
#define kRetainMax (MODDEF_SLEEP_RETAIN_MAX)
#define kRetainMagic (0x43535254)		/* "CSRT" */

/* Wake cause flags reported to JavaScript (stable across ESP-IDF versions). */
enum {
	kWakeTimer = 1 << 0,
	kWakeExt0 = 1 << 1,
	kWakeExt1 = 1 << 2,
	kWakeUlp = 1 << 3,
	kWakeOther = 1 << 4
};

/* Pull selectors passed by sleep.js. */
enum {
	kPullNone = 0,
	kPullUp = 1,
	kPullDown = 2
};

typedef struct {
	uint32_t magic;
	uint32_t length;
	uint32_t crc;
	uint8_t data[kRetainMax];
} RetainedState;

static RTC_DATA_ATTR RetainedState gRetained;
/* ext0 pin armed for the current sleep (+1, so 0 means none); ext1 status names its own pins. */
static RTC_DATA_ATTR int32_t gExt0PinPlusOne;
/* Every pad armed as a wake input (ext0 and ext1) for the current sleep. ESP-IDF leaves them in their RTC IO
   function after the wake: "before using this pad as digital GPIO, users need to reconfigure it using
   rtc_gpio_deinit()" (sleep_modes.rst), and Moddable's Digital does not (digitalbank.c). The first call of
   resetReason(), wakeCause() or wakePins() in a wake hands them back to the GPIO matrix (releaseWakePads). */
static RTC_DATA_ATTR uint64_t gWakePads;
static uint8_t gWakePadsReleased;

static void releaseWakePads(void)
{
	if (gWakePadsReleased)
		return;
	gWakePadsReleased = 1;
	if (ESP_RST_DEEPSLEEP == esp_reset_reason()) {
		for (int pin = 0; pin < 64; pin++) {
			if ((gWakePads & (1ULL << pin)) && rtc_gpio_is_valid_gpio((gpio_num_t)pin))
				rtc_gpio_deinit((gpio_num_t)pin);
		}
	}
	gWakePads = 0;
}

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), bitwise: it runs once per sleep over at most kRetainMax bytes. */
static uint32_t crc32Update(uint32_t crc, const uint8_t *bytes, uint32_t count)
{
	crc = ~crc;
	while (count--) {
		crc ^= *bytes++;
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xEDB88320 & (0 - (crc & 1)));
	}
	return ~crc;
}

static uint32_t retainedCrc(uint32_t length, const uint8_t *data)
{
	uint8_t header[4] = { (uint8_t)length, (uint8_t)(length >> 8), (uint8_t)(length >> 16), (uint8_t)(length >> 24) };
	uint32_t crc = crc32Update(0, header, sizeof(header));
	return crc32Update(crc, data, length);
}

static uint8_t retainedIsValid(void)
{
	if (kRetainMagic != gRetained.magic)
		return 0;
	if (gRetained.length > kRetainMax)
		return 0;
	return retainedCrc(gRetained.length, gRetained.data) == gRetained.crc;
}

void xs_sleep_retain(xsMachine *the)
{
	void *data;
	xsUnsignedValue count;

	xsmcGetBufferReadable(xsArg(0), &data, &count);
	if (count > kRetainMax)
		xsRangeError("retain: %u bytes exceed %u", (unsigned)count, (unsigned)kRetainMax);

	/* invalidate first, so a reset in the middle of the copy leaves nothing half-valid */
	gRetained.magic = 0;
	memcpy(gRetained.data, data, count);
	gRetained.length = count;
	gRetained.crc = retainedCrc(count, gRetained.data);
	gRetained.magic = kRetainMagic;
}

void xs_sleep_retained(xsMachine *the)
{
	if (!retainedIsValid())
		return;		/* result stays undefined */
	xsmcSetArrayBuffer(xsResult, gRetained.data, gRetained.length);
}

void xs_sleep_clear(xsMachine *the)
{
	gRetained.magic = 0;
	gRetained.length = 0;
	gRetained.crc = 0;
}

void xs_sleep_reset_reason(xsMachine *the)
{
	releaseWakePads();
	xsmcSetInteger(xsResult, (xsIntegerValue)esp_reset_reason());
}

static int wakeFlag(int cause)
{
	switch (cause) {
		case ESP_SLEEP_WAKEUP_TIMER: return kWakeTimer;
#if SOC_PM_SUPPORT_EXT0_WAKEUP
		case ESP_SLEEP_WAKEUP_EXT0: return kWakeExt0;
#endif
#if SOC_PM_SUPPORT_EXT1_WAKEUP
		case ESP_SLEEP_WAKEUP_EXT1: return kWakeExt1;
#endif
		case ESP_SLEEP_WAKEUP_ULP: return kWakeUlp;
		case ESP_SLEEP_WAKEUP_UNDEFINED: return 0;
		default: return kWakeOther;
	}
}

void xs_sleep_wake_cause(xsMachine *the)
{
	int flags = 0;
	releaseWakePads();
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(6, 0, 0)
	uint32_t causes = esp_sleep_get_wakeup_causes();
	for (int cause = 0; cause < 32; cause++) {
		if (causes & (1UL << cause))
			flags |= wakeFlag(cause);
	}
#else
	flags = wakeFlag(esp_sleep_get_wakeup_cause());
#endif
	xsmcSetInteger(xsResult, flags);
}

void xs_sleep_wake_pins(xsMachine *the)
{
	int index = 0;
	releaseWakePads();

	xsmcVars(1);
	xsmcSetNewArray(xsResult, 0);
#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(6, 0, 0)
	uint32_t causes = esp_sleep_get_wakeup_causes();
#else
	uint32_t causes = 1UL << esp_sleep_get_wakeup_cause();
#endif
#if SOC_PM_SUPPORT_EXT0_WAKEUP
	if ((causes & (1UL << ESP_SLEEP_WAKEUP_EXT0)) && gExt0PinPlusOne) {
		xsmcSetInteger(xsVar(0), gExt0PinPlusOne - 1);
		xsmcSetIndex(xsResult, index++, xsVar(0));
	}
#endif
#if SOC_PM_SUPPORT_EXT1_WAKEUP
	if (causes & (1UL << ESP_SLEEP_WAKEUP_EXT1)) {
		uint64_t mask = esp_sleep_get_ext1_wakeup_status();
		for (int pin = 0; pin < 64; pin++) {
			if (mask & (1ULL << pin)) {
				xsmcSetInteger(xsVar(0), pin);
				xsmcSetIndex(xsResult, index++, xsVar(0));
			}
		}
	}
#endif
	(void)causes;
	(void)index;
}

static uint64_t maskFromArgs(xsMachine *the, int low, int high)
{
	return ((uint64_t)(uint32_t)xsmcToInteger(xsArg(high)) << 32) | (uint32_t)xsmcToInteger(xsArg(low));
}

void xs_sleep_release(xsMachine *the)
{
	uint64_t mask = maskFromArgs(the, 0, 1);
	for (int pin = 0; pin < 64; pin++) {
		if (mask & (1ULL << pin))
			gpio_hold_dis((gpio_num_t)pin);
	}
}

static void applyPull(xsMachine *the, int pin, int pull)
{
	gpio_num_t gpio = (gpio_num_t)pin;
	esp_err_t err;

	if (!rtc_gpio_is_valid_gpio(gpio))
		xsRangeError("deepSleep: GPIO %d is not an RTC GPIO", pin);
	err = (kPullUp == pull) ? rtc_gpio_pullup_en(gpio) : rtc_gpio_pullup_dis(gpio);
	if (ESP_OK == err)
		err = (kPullDown == pull) ? rtc_gpio_pulldown_en(gpio) : rtc_gpio_pulldown_dis(gpio);
	if (ESP_OK != err)
		xsUnknownError("deepSleep: pull on GPIO %d failed (%d)", pin, err);
}

void xs_sleep_deep(xsMachine *the)
{
	double ms = xsmcToNumber(xsArg(0));
	int ext0Pin = xsmcToInteger(xsArg(1));
	int ext0Level = xsmcToInteger(xsArg(2));
	int ext0Pull = xsmcToInteger(xsArg(3));
	uint64_t ext1Mask = maskFromArgs(the, 4, 5);
	int ext1Mode = xsmcToInteger(xsArg(6));
	int ext1Pull = xsmcToInteger(xsArg(7));
	uint64_t holdMask = maskFromArgs(the, 8, 9);
	esp_err_t err;

	/* Only the sources this call arms. ESP_SLEEP_WAKEUP_ALL would also clear the ULP wake that native:ulp-pulse's
	   wakeOn armed earlier in this wake (sleep_modes.c: ALL sets wakeup_triggers to 0): the water node would then
	   wake only on its backstop timer, a burst up to 16 minutes late. Wake sources are RAM state, none is left
	   over from before this boot. */
	esp_sleep_disable_wakeup_source(ESP_SLEEP_WAKEUP_TIMER);
#if SOC_PM_SUPPORT_EXT0_WAKEUP
	esp_sleep_disable_wakeup_source(ESP_SLEEP_WAKEUP_EXT0);
#endif
#if SOC_PM_SUPPORT_EXT1_WAKEUP
	esp_sleep_disable_wakeup_source(ESP_SLEEP_WAKEUP_EXT1);
#endif
	gExt0PinPlusOne = 0;

	if (ms > 0) {
		err = esp_sleep_enable_timer_wakeup((uint64_t)(ms * 1000.0));
		if (ESP_OK != err)
			xsRangeError("deepSleep: timer duration rejected (%d)", err);
	}

	if (ext0Pin >= 0) {
#if SOC_PM_SUPPORT_EXT0_WAKEUP
		if (!esp_sleep_is_valid_wakeup_gpio((gpio_num_t)ext0Pin))
			xsRangeError("deepSleep: GPIO %d cannot wake the chip", ext0Pin);
		applyPull(the, ext0Pin, ext0Pull);
		err = esp_sleep_enable_ext0_wakeup((gpio_num_t)ext0Pin, ext0Level ? 1 : 0);
		if (ESP_OK != err)
			xsUnknownError("deepSleep: ext0 on GPIO %d failed (%d)", ext0Pin, err);
		gExt0PinPlusOne = ext0Pin + 1;
#else
		xsUnknownError("deepSleep: ext0 wake unsupported on this chip");
#endif
	}

	if (ext1Mask) {
#if SOC_PM_SUPPORT_EXT1_WAKEUP
		/* ext1Mode: 0 all low (ESP32), 1 any high, 2 any low (S2/S3/C6/H2); with one pin "all" and "any" agree */
		uint8_t singlePin = 0 == (ext1Mask & (ext1Mask - 1));
		esp_sleep_ext1_wakeup_mode_t mode = ESP_EXT1_WAKEUP_ANY_HIGH;
		if (1 == ext1Mode)
			;
	#if CONFIG_IDF_TARGET_ESP32
		else if ((0 == ext1Mode) || ((2 == ext1Mode) && singlePin))
			mode = ESP_EXT1_WAKEUP_ALL_LOW;
	#else
		else if ((2 == ext1Mode) || ((0 == ext1Mode) && singlePin))
			mode = ESP_EXT1_WAKEUP_ANY_LOW;
	#endif
		else
			xsRangeError("deepSleep: ext1 mode unsupported on this chip");
		for (int pin = 0; pin < 64; pin++) {
			if (!(ext1Mask & (1ULL << pin)))
				continue;
			if (!esp_sleep_is_valid_wakeup_gpio((gpio_num_t)pin))
				xsRangeError("deepSleep: GPIO %d cannot wake the chip", pin);
			if (kPullNone != ext1Pull)
				applyPull(the, pin, ext1Pull);
		}
	#if SOC_PM_SUPPORT_RTC_PERIPH_PD
		/* internal pulls need the RTC peripherals powered while asleep */
		if (kPullNone != ext1Pull)
			esp_sleep_pd_config(ESP_PD_DOMAIN_RTC_PERIPH, ESP_PD_OPTION_ON);
	#endif
	#if ESP_IDF_VERSION >= ESP_IDF_VERSION_VAL(5, 3, 0)
		esp_sleep_disable_ext1_wakeup_io(0);
		err = esp_sleep_enable_ext1_wakeup_io(ext1Mask, mode);
	#else
		err = esp_sleep_enable_ext1_wakeup(ext1Mask, mode);
	#endif
		if (ESP_OK != err)
			xsUnknownError("deepSleep: ext1 failed (%d)", err);
#else
		xsUnknownError("deepSleep: ext1 wake unsupported on this chip");
#endif
	}

	if ((ms <= 0) && (ext0Pin < 0) && !ext1Mask)
		xsRangeError("deepSleep: no wake source");
	gWakePads = ((ext0Pin >= 0) ? (1ULL << ext0Pin) : 0) | ext1Mask;

	if (holdMask) {
		for (int pin = 0; pin < 64; pin++) {
			if (!(holdMask & (1ULL << pin)))
				continue;
			if (!GPIO_IS_VALID_OUTPUT_GPIO(pin))
				xsRangeError("deepSleep: GPIO %d cannot hold an output", pin);
			err = gpio_hold_en((gpio_num_t)pin);
			if (ESP_OK != err)
				xsUnknownError("deepSleep: hold on GPIO %d failed (%d)", pin, err);
		}
#if SOC_GPIO_SUPPORT_HOLD_IO_IN_DSLP && !SOC_GPIO_SUPPORT_HOLD_SINGLE_IO_IN_DSLP
		gpio_deep_sleep_hold_en();		/* ESP32, ESP32-S2/S3: digital pads hold only with this */
#endif
	}

	esp_deep_sleep_start();		/* does not return */
}
