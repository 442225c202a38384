// Host bindings of native:ulp-pulse (firmware/native/ulp-pulse.c).

/** Minutes the ULP's ring holds; must match RING_MINUTES in ulp-pulse.c. */
export const RING_MINUTES = 16;

class UlpPulseCount @ "xs_ulp_pulse_destructor" {
	constructor(options) @ "xs_ulp_pulse_constructor";
	read() @ "xs_ulp_pulse_read";
	write(value) @ "xs_ulp_pulse_write";
	minutes(into) @ "xs_ulp_pulse_minutes";
	minuteStart() @ "xs_ulp_pulse_minute_start";
	msIntoMinute() @ "xs_ulp_pulse_ms_into_minute";
	_wake(minutes, burstPulses) @ "xs_ulp_pulse_wake";
	wakeOn(wake) {
		const minutes = wake.minutes | 0, burstPulses = wake.burstPulses | 0;
		if ((minutes < 0) || (minutes >= RING_MINUTES))
			throw new RangeError(`ULP wake after ${wake.minutes} minutes: 0..${RING_MINUTES - 1}`);
		if ((burstPulses < 0) || (burstPulses > 0xFFFF))
			throw new RangeError(`ULP burst threshold ${wake.burstPulses}: 0..65535`);
		this._wake(minutes, burstPulses);
	}
	close() @ "xs_ulp_pulse_close";
}
export default UlpPulseCount;
