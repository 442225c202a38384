/*
 * native:ulp-pulse — meter pulses counted by the ESP32's ULP co-processor
 * (FSM), so counting goes on through deep sleep, when the PCNT peripheral is
 * powered down. The ULP samples the pin's RTC input every 1 ms and counts
 * rising edges into a 16-bit word of RTC slow memory; the JavaScript side
 * reads it like embedded:io/pulsecount (a signed 16-bit wrapping count) and
 * the pulse-flow driver handles the wrap.
 *
 * Minute ring. The program also counts its periods: every MINUTE_PERIODS of
 * them (a minute at 1 ms, give or take the RTC slow clock's few per cent and
 * the program's own run time) it writes the count into ring[ended % 16],
 * increments `ended`, and wakes the CPU if the minute just ended had at least
 * V_BURST pulses, or if V_EVERY minutes have ended since the CPU last took the
 * ring (V_TAKEN). So the water node sleeps through quiet quarters of an hour
 * with its per-minute flows kept, and still wakes within a minute of a burst.
 * A wake is only signalled while the SoC is ready for one (asleep); minutes
 * that end while it is awake are taken by the running app.
 *
 * Sampling at 1 kHz bounds the countable rate at 500 Hz (Hall turbines reach
 * ~250 Hz at 30 L/min); reed contacts need an RC filter on the board
 * (hardware/water), since this program does not debounce.
 *
 * ESP32 and ESP32-S3 (their ULP FSMs run the same program, built with each
 * target's ulp.h, esp32/ or esp32s3/; the sdkconfig selects the FSM, CONFIG_ULP_COPROC_TYPE_FSM);
 * not yet run on hardware. Two differences of the S3, both from ESP-IDF's ULP FSM
 * pulse-counting example and headers:
 * - it powers the RTC peripherals' clocks down in deep sleep, so each run first
 *   switches the RTC IO MUX clock back on (SENS_IOMUX_CLK_EN), or the pin reads
 *   nothing; that register lies beyond the 256 bytes that ulp.h's I_WR_REG
 *   macro can address (it keeps only `reg & 0xff`), so the instruction is
 *   encoded here from the register's word offset from DR_REG_RTCCNTL_BASE, as
 *   the ULP assembler's WRITE_RTC_REG does;
 * - its branches compare R0 less, greater or equal, not greater-or-equal, so
 *   "at least n" is "greater than n − 1" (M_AT_LEAST).
 * Any other target refuses the constructor with an error naming this module.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "mc.xs.h"

#if CONFIG_IDF_TARGET_ESP32 || CONFIG_IDF_TARGET_ESP32S3
#define ULP_PULSE 1
#if CONFIG_IDF_TARGET_ESP32
#include "esp32/ulp.h"
/* Branch to `label` when R0 >= n. */
#define M_AT_LEAST(label, n) M_BGE(label, n)
#else
#include "esp32s3/ulp.h"
#include "soc/sens_reg.h"
#define M_AT_LEAST(label, n) M_BG(label, (n) - 1)
/* reg[shift] = val, for any RTC_CNTL/RTC_IO/SENS/RTC_I2C register: a 10-bit word address split into addr and periph_sel. */
#define RTC_WORD(reg) (((reg) - DR_REG_RTCCNTL_BASE) / 4)
#define I_WR_RTC_BIT(reg, shift, val) { .wr_reg = { \
	.addr = RTC_WORD(reg) & 0xff, .periph_sel = RTC_WORD(reg) >> 8, .data = (val), \
	.low = (shift), .high = (shift), .opcode = OPCODE_WR_REG } }
#endif
#include "driver/rtc_io.h"
#include "soc/rtc_io_reg.h"
#include "soc/rtc_cntl_reg.h"
#include "esp_sleep.h"
#include "esp_system.h"

/* Variables at the end of RTC slow memory, after the program; offsets from V_BASE. */
#define PROG_WORDS 64
#define V_BASE PROG_WORDS
#define V_MAGIC 0
#define V_LAST 1
#define V_COUNT 2
#define V_TICKS 3      /* periods into the minute under way */
#define V_ENDED 4      /* minutes ended, mod 2^16 */
#define V_TAKEN 5      /* V_ENDED when the CPU last took the ring */
#define V_MIN_START 6  /* count at the start of the minute under way */
#define V_BURST 7      /* wake at a minute with at least this many pulses; 0: off */
#define V_EVERY 8      /* wake when this many minutes ended since V_TAKEN; 0: off */
#define V_RING 9       /* RING_MINUTES words */
#define RING_MINUTES 16
#define ULP_MAGIC 0xC5A2
#define SAMPLE_PERIOD_US 1000
#define MINUTE_PERIODS 60000
#define MEM(v) (RTC_SLOW_MEM[V_BASE + (v)] & 0xFFFF)

enum { L_TICK = 1, L_EVERY, L_WAKE, L_DONE };

static int16_t gRtcIo = -1;

static void startUlp(xsMachine *the, int gpio)
{
	int rtcio = rtc_io_number_get(gpio);
	if (rtcio < 0)
		xsRangeError("pin %d is not an RTC GPIO", gpio);
	gRtcIo = rtcio;
	/* Counting since before this boot: keep its count and ring. After a deep-sleep wake the ULP has run all along.
	   After any other reset with RTC slow memory intact, the program is loaded and started again over the same
	   variables: a system reset (the RTC watchdog) stops the ULP's timer while the memory keeps the magic, and
	   skipping the start then would stop counting until a power cycle (ESP-IDF's ULP pulse-counting example
	   starts its program at every wake the ULP did not cause). */
	uint8_t counting = MEM(V_MAGIC) == ULP_MAGIC;
	if (counting && ESP_RST_DEEPSLEEP == esp_reset_reason())
		return;

	rtc_gpio_init(gpio);
	rtc_gpio_set_direction(gpio, RTC_GPIO_MODE_INPUT_ONLY);
	rtc_gpio_hold_en(gpio);

	const ulp_insn_t program[] = {
#if CONFIG_IDF_TARGET_ESP32S3
		I_WR_RTC_BIT(SENS_SAR_PERI_CLK_GATE_CONF_REG, SENS_IOMUX_CLK_EN_S, 1), /* the RTC IO MUX clock, off in deep sleep */
#endif
		I_MOVI(R3, V_BASE),                               /* R3 = base of the variables */
		/* Edge counting. */
		I_RD_REG(RTC_GPIO_IN_REG, RTC_GPIO_IN_NEXT_S + rtcio, RTC_GPIO_IN_NEXT_S + rtcio), /* R0 = level */
		I_LD(R1, R3, V_LAST),                             /* R1 = previous level */
		I_ST(R0, R3, V_LAST),
		I_SUBR(R0, R0, R1),                               /* 1: rising edge, 0: none, 0xFFFF: falling */
		M_BL(L_TICK, 1),
		M_AT_LEAST(L_TICK, 2),
		I_LD(R1, R3, V_COUNT),
		I_ADDI(R1, R1, 1),                                /* 16-bit wrap, like a PCNT unit */
		I_ST(R1, R3, V_COUNT),
		/* The minute clock. */
		M_LABEL(L_TICK),
		I_LD(R0, R3, V_TICKS),
		I_ADDI(R0, R0, 1),
		I_ST(R0, R3, V_TICKS),
		M_BL(L_DONE, MINUTE_PERIODS),
		I_MOVI(R0, 0),
		I_ST(R0, R3, V_TICKS),
		I_LD(R1, R3, V_COUNT),                            /* R1 = count at the minute's end */
		I_LD(R2, R3, V_ENDED),
		I_ANDI(R0, R2, RING_MINUTES - 1),
		I_ADDR(R0, R0, R3),
		I_ST(R1, R0, V_RING),                             /* ring[ended % 16] = count */
		I_ADDI(R2, R2, 1),
		I_ST(R2, R3, V_ENDED),
		I_LD(R0, R3, V_MIN_START),
		I_ST(R1, R3, V_MIN_START),
		I_SUBR(R2, R1, R0),                               /* R2 = the minute's pulses (mod 2^16) */
		/* Burst: pulses >= V_BURST (borrow sets the ALU overflow flag when fewer). */
		I_LD(R0, R3, V_BURST),
		M_BL(L_EVERY, 1),
		I_SUBR(R0, R2, R0),
		M_BXF(L_EVERY),
		M_BX(L_WAKE),
		/* Every V_EVERY minutes since the CPU took the ring. */
		M_LABEL(L_EVERY),
		I_LD(R0, R3, V_EVERY),
		M_BL(L_DONE, 1),
		I_MOVR(R1, R0),
		I_LD(R0, R3, V_ENDED),
		I_LD(R2, R3, V_TAKEN),
		I_SUBR(R0, R0, R2),
		I_SUBR(R0, R0, R1),
		M_BXF(L_DONE),
		M_LABEL(L_WAKE),
		/* Only a sleeping SoC can be woken; an awake one takes the ring itself. */
		I_RD_REG(RTC_CNTL_LOW_POWER_ST_REG, RTC_CNTL_RDY_FOR_WAKEUP_S, RTC_CNTL_RDY_FOR_WAKEUP_S),
		M_BL(L_DONE, 1),
		I_WAKE(),
		M_LABEL(L_DONE),
		I_HALT(),
	};
	size_t size = sizeof(program) / sizeof(ulp_insn_t);
	if (size > PROG_WORDS)
		xsUnknownError("ULP program too long");
	if (!counting) {
		for (int i = 0; i < V_RING + RING_MINUTES; i++)
			RTC_SLOW_MEM[V_BASE + i] = 0;
	}
	if (ulp_process_macros_and_load(0, program, &size) != ESP_OK)
		xsUnknownError("ULP load failed");
	ulp_set_wakeup_period(0, SAMPLE_PERIOD_US);
	if (ulp_run(0) != ESP_OK)
		xsUnknownError("ULP start failed");
	RTC_SLOW_MEM[V_BASE + V_MAGIC] = ULP_MAGIC;
}
#endif

void xs_ulp_pulse_destructor(void *data)
{
}

void xs_ulp_pulse_constructor(xsMachine *the)
{
#if ULP_PULSE
	xsmcVars(1);
	xsmcGet(xsVar(0), xsArg(0), xsID_signal);
	startUlp(the, xsmcToInteger(xsVar(0)));
#else
	xsUnknownError("native:ulp-pulse needs an ESP32 or ESP32-S3 (ULP FSM)");
#endif
}

void xs_ulp_pulse_read(xsMachine *the)
{
#if ULP_PULSE
	xsmcSetInteger(xsResult, (int16_t)MEM(V_COUNT));
#endif
}

void xs_ulp_pulse_write(xsMachine *the)
{
#if ULP_PULSE
	/* Moves the count only: the ring keeps the counts it recorded, V_MIN_START moves with it. */
	uint32_t delta = ((uint32_t)xsmcToInteger(xsArg(0)) - MEM(V_COUNT)) & 0xFFFF;
	RTC_SLOW_MEM[V_BASE + V_MIN_START] = (MEM(V_MIN_START) + delta) & 0xFFFF;
	RTC_SLOW_MEM[V_BASE + V_COUNT] = (uint32_t)(xsmcToInteger(xsArg(0)) & 0xFFFF);
#endif
}

void xs_ulp_pulse_minutes(xsMachine *the)
{
#if ULP_PULSE
	void *data;
	xsUnsignedValue size;
	xsmcGetBufferWritable(xsArg(0), &data, &size);
	int32_t *into = data;
	int capacity = (int)(size / sizeof(int32_t));
	/* The ULP may end a minute while this runs: read `ended` once and take up to it. */
	int ended = MEM(V_ENDED);
	int n = (ended - MEM(V_TAKEN)) & 0xFFFF;
	int copy = n < RING_MINUTES ? n : RING_MINUTES;
	if (copy > capacity)
		copy = capacity;
	for (int i = 0; i < copy; i++)
		into[i] = MEM(V_RING + ((ended - copy + i) & (RING_MINUTES - 1)));
	RTC_SLOW_MEM[V_BASE + V_TAKEN] = ended;
	xsmcSetInteger(xsResult, n);
#endif
}

void xs_ulp_pulse_minute_start(xsMachine *the)
{
#if ULP_PULSE
	xsmcSetInteger(xsResult, MEM(V_MIN_START));
#endif
}

void xs_ulp_pulse_ms_into_minute(xsMachine *the)
{
#if ULP_PULSE
	xsmcSetInteger(xsResult, MEM(V_TICKS) * (SAMPLE_PERIOD_US / 1000));
#endif
}

void xs_ulp_pulse_wake(xsMachine *the)
{
#if ULP_PULSE
	int minutes = xsmcToInteger(xsArg(0)), burst = xsmcToInteger(xsArg(1));
	RTC_SLOW_MEM[V_BASE + V_EVERY] = minutes & 0xFFFF;
	RTC_SLOW_MEM[V_BASE + V_BURST] = burst & 0xFFFF;
	/* Wake sources are configured anew at every boot (they are RAM state, lost in deep sleep). */
	if (minutes || burst)
		esp_sleep_enable_ulp_wakeup();
#endif
}

void xs_ulp_pulse_close(xsMachine *the)
{
	/* The ULP keeps counting: the count belongs to the meter, not to this object. */
}
