/**
 * The line rules of the modem drivers, written out plainly as a test oracle:
 * a line is the bytes between two LFs, with non-printable bytes before its first
 * printable byte skipped and one trailing CR removed; it is dropped as too long
 * when more than `max` bytes remain, as corrupt when a non-printable byte remains,
 * and as noise when it is empty or `isNoise` says so (default: starts with `+INFO:`).
 * Bytes after the last LF are an unfinished line and produce nothing.
 */
export interface ReferenceSplit {
  lines: string[];
  overflows: number;
  corrupt: number;
}

const printable = (b: number) => b >= 0x20 && b <= 0x7e;

/** Splits a byte stream the way the drivers' line reader must. */
export function referenceLines(bytes: Uint8Array, max = 600, isNoise = (l: string) => l.startsWith("+INFO:")): ReferenceSplit {
  const out: ReferenceSplit = { lines: [], overflows: 0, corrupt: 0 };
  const segments: number[][] = [[]];
  for (const b of bytes) {
    if (b === 0x0a) segments.push([]);
    else segments[segments.length - 1].push(b);
  }
  // The unterminated tail produces no line; the reader has already counted it as
  // too long once it outgrew the buffer (max bytes plus room for a CR).
  const tail = segments.pop()!;
  let skip = 0;
  while (skip < tail.length && !printable(tail[skip])) skip++;
  if (tail.length - skip > max + 1) out.overflows++;
  for (const segment of segments) {
    let start = 0;
    while (start < segment.length && !printable(segment[start])) start++;
    let body = segment.slice(start);
    if (body.length > 0 && body[body.length - 1] === 0x0d) body = body.slice(0, -1);
    if (body.length > max) {
      out.overflows++;
      continue;
    }
    if (!body.every(printable)) {
      out.corrupt++;
      continue;
    }
    const line = String.fromCharCode(...body);
    if (line === "" || isNoise(line)) continue;
    out.lines.push(line);
  }
  return out;
}
