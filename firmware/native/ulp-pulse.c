/*
 * native:ulp-pulse — meter pulses counted by the ESP32's ULP co-processor
 * (FSM), so counting goes on through deep sleep, when the PCNT peripheral is
 * powered down. The ULP samples the pin's RTC input every 1 ms and counts
 * rising edges into a 16-bit word of RTC slow memory; the JavaScript side
 * reads it like embedded:io/pulsecount (a signed 16-bit wrapping count) and
 * the pulse-flow driver handles the wrap.
 *
 * Sampling at 1 kHz bounds the countable rate at 500 Hz (Hall turbines reach
 * ~250 Hz at 30 L/min); reed contacts need an RC filter on the board
 * (hardware/water), since this program does not debounce.
 *
 * ESP32 only (ULP FSM macros of esp32/ulp.h); not yet run on hardware.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"

#if CONFIG_IDF_TARGET_ESP32
#include "esp32/ulp.h"
#include "driver/rtc_io.h"
#include "soc/rtc_io_reg.h"
#include "soc/rtc_cntl_reg.h"
#include "esp_sleep.h"

/* Variables at the end of RTC slow memory, after the program. */
#define PROG_WORDS 16
#define V_MAGIC (PROG_WORDS + 0)
#define V_LAST (PROG_WORDS + 1)
#define V_COUNT (PROG_WORDS + 2)
#define ULP_MAGIC 0xC5A1
#define SAMPLE_PERIOD_US 1000

enum { L_DONE = 1 };

static int16_t gRtcIo = -1;

static void startUlp(xsMachine *the, int gpio)
{
	int rtcio = rtc_io_number_get(gpio);
	if (rtcio < 0)
		xsRangeError("pin %d is not an RTC GPIO", gpio);
	gRtcIo = rtcio;
	/* Already counting since before this boot (deep-sleep wake): keep its count. */
	if ((RTC_SLOW_MEM[V_MAGIC] & 0xFFFF) == ULP_MAGIC)
		return;

	rtc_gpio_init(gpio);
	rtc_gpio_set_direction(gpio, RTC_GPIO_MODE_INPUT_ONLY);
	rtc_gpio_hold_en(gpio);

	const ulp_insn_t program[] = {
		I_MOVI(R3, V_MAGIC),                              /* R3 = base of the variables */
		I_RD_REG(RTC_GPIO_IN_REG, RTC_GPIO_IN_NEXT_S + rtcio, RTC_GPIO_IN_NEXT_S + rtcio), /* R0 = level */
		I_LD(R1, R3, V_LAST - V_MAGIC),                   /* R1 = previous level */
		I_ST(R0, R3, V_LAST - V_MAGIC),
		I_SUBR(R0, R0, R1),                               /* 1: rising edge, 0: none, 0xFFFF: falling */
		M_BL(L_DONE, 1),
		M_BGE(L_DONE, 2),
		I_LD(R1, R3, V_COUNT - V_MAGIC),
		I_ADDI(R1, R1, 1),                                /* 16-bit wrap, like a PCNT unit */
		I_ST(R1, R3, V_COUNT - V_MAGIC),
		M_LABEL(L_DONE),
		I_HALT(),
	};
	size_t size = sizeof(program) / sizeof(ulp_insn_t);
	if (size > PROG_WORDS)
		xsUnknownError("ULP program too long");
	RTC_SLOW_MEM[V_LAST] = 0;
	RTC_SLOW_MEM[V_COUNT] = 0;
	if (ulp_process_macros_and_load(0, program, &size) != ESP_OK)
		xsUnknownError("ULP load failed");
	ulp_set_wakeup_period(0, SAMPLE_PERIOD_US);
	if (ulp_run(0) != ESP_OK)
		xsUnknownError("ULP start failed");
	RTC_SLOW_MEM[V_MAGIC] = ULP_MAGIC;
}
#endif

void xs_ulp_pulse_destructor(void *data)
{
}

void xs_ulp_pulse_constructor(xsMachine *the)
{
#if CONFIG_IDF_TARGET_ESP32
	xsmcVars(1);
	xsmcGet(xsVar(0), xsArg(0), xsID_signal);
	startUlp(the, xsmcToInteger(xsVar(0)));
#else
	xsUnknownError("native:ulp-pulse needs an ESP32 (ULP FSM)");
#endif
}

void xs_ulp_pulse_read(xsMachine *the)
{
#if CONFIG_IDF_TARGET_ESP32
	xsmcSetInteger(xsResult, (int16_t)(RTC_SLOW_MEM[V_COUNT] & 0xFFFF));
#endif
}

void xs_ulp_pulse_write(xsMachine *the)
{
#if CONFIG_IDF_TARGET_ESP32
	RTC_SLOW_MEM[V_COUNT] = (uint32_t)(xsmcToInteger(xsArg(0)) & 0xFFFF);
#endif
}

void xs_ulp_pulse_close(xsMachine *the)
{
	/* The ULP keeps counting: the count belongs to the meter, not to this object. */
}
