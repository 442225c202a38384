// Host bindings of native:rtc (firmware/native/rtc.c).
export function rtcMs() @ "xs_rtc_ms";
export function unixMs() @ "xs_rtc_unix_ms";
export function randomU32() @ "xs_rtc_random_u32";
