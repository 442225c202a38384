/* global native -- XS's Native API, recognised by xsc */
/*
 * native:sleep — JavaScript side of sleep.c (XS in C, ESP32 / ESP32-S3).
 *
 * Binds the host functions with XS's Native API (`native(…).call(…)`, which xsc
 * compiles to the same byte code as the `@` syntax but which stays plain
 * JavaScript for eslint and tsc), validates and flattens the options so the C
 * side reads only numbers, and names the codes the C side returns. Typed by firmware/typings/native-sleep.d.ts; the simulator replaces
 * this module with simulator/src/platform/native-sleep.ts.
 */

/** Most bytes retain() keeps; must match MODDEF_SLEEP_RETAIN_MAX in sleep.c (manifest `defines.sleep.retain_max`). */
export const RETAIN_MAX = 1024;

const PULLS = Object.freeze({ none: 0, up: 1, down: 2 });
const EXT1_MODES = Object.freeze({ "all-low": 0, "any-high": 1, "any-low": 2 });
/* esp_reset_reason_t, in enum order */
const RESET_REASONS = Object.freeze([
	"unknown", "power-on", "external", "software", "panic", "interrupt-watchdog",
	"task-watchdog", "watchdog", "deep-sleep", "brownout", "sdio", "usb", "jtag",
	"efuse", "power-glitch", "cpu-lockup"
]);
const WAKE_TIMER = 1, WAKE_EXT0 = 2, WAKE_EXT1 = 4, WAKE_ULP = 8, WAKE_OTHER = 16;

function _deep(ms, ext0Pin, ext0Level, ext0Pull, ext1Low, ext1High, ext1Mode, ext1Pull, holdLow, holdHigh) {
	return native("xs_sleep_deep").call(this, ms, ext0Pin, ext0Level, ext0Pull, ext1Low, ext1High, ext1Mode, ext1Pull, holdLow, holdHigh);
}
function _release(holdLow, holdHigh) {
	return native("xs_sleep_release").call(this, holdLow, holdHigh);
}
function _retain(buffer) {
	return native("xs_sleep_retain").call(this, buffer);
}
function _retained() {
	return native("xs_sleep_retained").call(this);
}
function _clear() {
	return native("xs_sleep_clear").call(this);
}
function _resetReason() {
	return native("xs_sleep_reset_reason").call(this);
}
function _wakeCause() {
	return native("xs_sleep_wake_cause").call(this);
}
function _wakePins() {
	return native("xs_sleep_wake_pins").call(this);
}

function pull(value) {
	if (undefined === value)
		return 0;
	const code = PULLS[value];
	if (undefined === code)
		throw new RangeError(`invalid pull "${value}"`);
	return code;
}

function mask(pins, what) {
	let low = 0, high = 0;
	for (const p of pins) {
		if (pin(p) < 32)
			low |= 1 << p;
		else
			high |= 1 << (p - 32);
	}
	if (!low && !high)
		throw new RangeError(`${what} needs at least one pin`);
	return [low | 0, high | 0];
}

function pin(value) {
	if (!Number.isInteger(value) || (value < 0) || (value > 63))
		throw new RangeError(`invalid pin ${value}`);
	return value;
}

/**
 * Enters deep sleep and does not return: the chip resets on wake and the app
 * starts again from main. `ms` > 0 arms the RTC timer; `options.ext0` and
 * `options.ext1` add GPIO wake sources (RTC GPIOs only); `options.hold` keeps
 * those output pins at their present level while asleep (release them with
 * releaseHold() after the wake).
 */
export function deepSleep(ms, options) {
	ms = (undefined === ms) ? 0 : Number(ms);
	if (!(ms >= 0))
		throw new RangeError(`invalid sleep duration ${ms}`);
	let ext0Pin = -1, ext0Level = 0, ext0Pull = 0;
	let ext1Low = 0, ext1High = 0, ext1Mode = 1, ext1Pull = 0;
	const ext0 = options?.ext0;
	if (ext0) {
		ext0Pin = pin(ext0.pin);
		ext0Level = ext0.level ? 1 : 0;
		ext0Pull = pull(ext0.pull);
	}
	const ext1 = options?.ext1;
	if (ext1) {
		[ext1Low, ext1High] = mask(ext1.pins ?? [], "ext1");
		ext1Mode = EXT1_MODES[ext1.mode ?? "any-high"];
		if (undefined === ext1Mode)
			throw new RangeError(`invalid ext1 mode "${ext1.mode}"`);
		ext1Pull = pull(ext1.pull);
	}
	const [holdLow, holdHigh] = options?.hold?.length ? mask(options.hold, "hold") : [0, 0];
	if ((0 === ms) && (ext0Pin < 0) && !ext1Low && !ext1High)
		throw new RangeError("deepSleep needs a duration or a wake pin");
	_deep(ms, ext0Pin, ext0Level, ext0Pull, ext1Low, ext1High, ext1Mode, ext1Pull, holdLow, holdHigh);
}

/** Releases output pins held through the last deep sleep (call before driving them again). */
export function releaseHold(pins) {
	_release(...mask(pins, "releaseHold"));
}

/** Keeps a copy of `bytes` (at most RETAIN_MAX) in RTC memory for the next wake from deep sleep. */
export function retain(bytes) {
	_retain(bytes);
}

/** The bytes last retained, as a fresh ArrayBuffer, or undefined after a power cut or any reset other than a deep-sleep wake. */
export function retained() {
	return _retained();
}

/** Forgets the retained bytes. */
export function clearRetained() {
	_clear();
}

/** Why the chip last reset, e.g. "power-on", "deep-sleep", "brownout", "panic". */
export function resetReason() {
	return RESET_REASONS[_resetReason()] ?? "unknown";
}

/** What woke the chip from deep sleep: "timer", "ext0", "ext1", "ulp", "other", or "none" when it did not wake from sleep. */
export function wakeCause() {
	const flags = _wakeCause();
	if (flags & WAKE_EXT0) return "ext0";
	if (flags & WAKE_EXT1) return "ext1";
	if (flags & WAKE_TIMER) return "timer";
	if (flags & WAKE_ULP) return "ulp";
	if (flags & WAKE_OTHER) return "other";
	return "none";
}

/** GPIOs that woke the chip (ext0 or ext1), empty for a timer wake or a cold boot. */
export function wakePins() {
	return _wakePins();
}
