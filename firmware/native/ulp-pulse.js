// Host bindings of native:ulp-pulse (firmware/native/ulp-pulse.c).
class UlpPulseCount @ "xs_ulp_pulse_destructor" {
	constructor(options) @ "xs_ulp_pulse_constructor";
	read() @ "xs_ulp_pulse_read";
	write(value) @ "xs_ulp_pulse_write";
	close() @ "xs_ulp_pulse_close";
}
export default UlpPulseCount;
