/**
 * Emulated DFRobot A02YYUW waterproof ultrasonic distance sensor (UART
 * auto-output version), written from the datasheet facts: 9600 8N1, a 4-byte
 * frame `FF H L SUM` with SUM = (0xFF + H + L) & 0xFF and distance mm = H·256 + L,
 * range 30–4500 mm. The level on the module's RX pin, sampled when it starts up,
 * picks the output: high or floating → processed (steadier, a frame every
 * 100–300 ms), low → real-time (a frame every 100 ms, noisier).
 *
 * Modelling choices (not in the datasheet): when there is no usable echo (no
 * target, beyond 4500 mm, inside the 30 mm blind zone, or a soft target that
 * scatters the pulse) the module still sends a frame, with distance 0. Noise is
 * Gaussian clipped at 3 sd, sd 1 mm + 0.08 % processed and 2 mm + 0.1 % real-time, inside
 * the ±(1 cm + 0.3 %) accuracy figure; soft targets (bags, foam) return no echo
 * beyond 2 m and miss 20 % of pings nearer.
 *
 * The module streams on its own, so frames are produced as virtual time passes:
 * the emulator listens to its board clock's `advance`/`advanceTo` and queues each
 * frame on the link when its time comes. After a gap longer than 2 s (a node
 * asleep with the sensor powered) only the last 2 s of frames are produced, as a
 * host's receive FIFO would keep no more. On a switched supply (`powered`
 * false at first, then `setPower`) it sends nothing while unpowered and
 * starts up afresh, re-reading the mode pin, each time the power comes on.
 *
 * Faults: `corrupt-checksum` (each byte has a bit flipped with probability p),
 * `stuck` (the last frame repeats), `disconnect` (output stops mid-frame),
 * `desync` (bytes dropped from frames with probability p), `garbage` (random
 * bytes between frames with probability p), `slow-start` (a brown-out restart
 * that takes `ms`, default 3000), `echo` (with probability p, a spurious short
 * reading off a lid or wall, 80–400 mm, with a valid checksum) and `no-echo`.
 */
import type { SerialDevice, SerialLink } from "../core/board.ts";
import type { VirtualClock } from "../core/clock.ts";
import type { Rng } from "../core/rng.ts";

/** What the ultrasonic pulse meets: hard surfaces (bin walls, rubbish, lids) and still water echo well; soft ones scatter. */
export type A02yyuwSurface = "hard" | "water" | "soft" | "none";

/** The true target seen by the transducer. */
export interface A02yyuwTarget {
  /** True distance from the transducer face, mm. */
  distanceMm: number;
  /** Default "hard". */
  surface?: A02yyuwSurface;
}

/** Faults this emulator can inject. */
export type A02yyuwFault = "corrupt-checksum" | "stuck" | "disconnect" | "desync" | "garbage" | "slow-start" | "echo" | "no-echo";

/** Options of `inject()`: `p` is a per-frame (per-byte for corrupt-checksum) probability, default 0.3 (1 for no-echo). */
export interface A02yyuwFaultOptions {
  p?: number;
  /** slow-start: restart time, ms (default 3000). */
  ms?: number;
  /** echo: range of the spurious distance, mm (default [80, 400]). */
  distanceMm?: [number, number];
}

/** Constructor options. */
export interface A02yyuwOptions {
  clock: VirtualClock;
  rng: Rng;
  /** The true target at virtual time `tMs`. */
  target: (tMs: number) => A02yyuwTarget;
  /** Level on the module's RX (mode select) pin: 1 or floating → processed, 0 → real-time. Default: floating. */
  rxLevel?: () => number;
  /** Power-up to first frame, ms (default 300). */
  startupMs?: number;
  /** Powered at construction (default true; false for a sensor on a switched rail, see `setPower`). */
  powered?: boolean;
}

const BACKLOG_MS = 2000;
const listeners = new WeakMap<VirtualClock, Set<() => void>>();

/** Calls `fn` after every advance of `clock` (wrapping its methods once per clock). */
function onAdvance(clock: VirtualClock, fn: () => void): void {
  let set = listeners.get(clock);
  if (!set) {
    const fns = new Set<() => void>();
    set = fns;
    listeners.set(clock, fns);
    const advance = clock.advance.bind(clock);
    const advanceTo = clock.advanceTo.bind(clock);
    clock.advance = (ms: number) => {
      advance(ms);
      for (const f of fns) f();
    };
    clock.advanceTo = (ms: number) => {
      advanceTo(ms);
      for (const f of fns) f();
    };
  }
  set.add(fn);
}

/** DFRobot A02YYUW on a UART. */
export class A02yyuw implements SerialDevice {
  readonly #clock: VirtualClock;
  readonly #rng: Rng;
  readonly #faultRng: Rng;
  readonly #target: (tMs: number) => A02yyuwTarget;
  readonly #rxLevel: () => number;
  readonly #startupMs: number;
  readonly #faults = new Map<A02yyuwFault, A02yyuwFaultOptions>();
  #link: SerialLink | undefined;
  #nextMs: number;
  #realTime: boolean | undefined;
  /** The last frame measured (what a stuck module repeats), if one was since power-up. */
  readonly #last = new Uint8Array(4);
  #hasLast = false;
  /** The frame being sent: one buffer, refilled per frame (the link copies what it is given). */
  readonly #out = new Uint8Array(4);
  #dead = false;
  #powered: boolean;
  /** Frames sent (for tests). */
  framesSent = 0;
  /** Of which spurious echoes (the `echo` fault; for tests: they carry a valid checksum, so only agreement can reject them). */
  echoesSent = 0;

  constructor(options: A02yyuwOptions) {
    this.#clock = options.clock;
    this.#rng = options.rng;
    this.#faultRng = options.rng.fork("faults");
    this.#target = options.target;
    this.#rxLevel = options.rxLevel ?? (() => 1);
    this.#startupMs = options.startupMs ?? 300;
    this.#nextMs = this.#clock.nowMs + this.#startupMs;
    this.#powered = options.powered ?? true;
  }

  /** Output mode latched at start-up; undefined before the first frame. */
  get mode(): "processed" | "real-time" | undefined {
    return this.#realTime === undefined ? undefined : this.#realTime ? "real-time" : "processed";
  }

  attach(link: SerialLink): void {
    this.#link = link;
    onAdvance(link.clock, () => this.update());
    this.update();
  }

  /** The auto-output module ignores UART input (its RX pin is only a level). */
  serialWrite(_bytes: Uint8Array, _hostBaud: number): void {
    this.update();
  }

  /** Switches the supply: off, the module sends nothing; on, it starts up as after `powerCycle`. */
  setPower(on: boolean): void {
    if (on === this.#powered) return;
    this.update();
    this.#powered = on;
    if (on) this.powerCycle();
  }

  /** Power cycle: restarts, re-reading the mode pin. */
  powerCycle(): void {
    this.#realTime = undefined;
    this.#dead = false;
    this.#hasLast = false;
    this.#nextMs = this.#clock.nowMs + this.#startupMs;
  }

  inject(fault: A02yyuwFault, options: A02yyuwFaultOptions = {}): void {
    this.#faults.set(fault, options);
    if (fault === "slow-start") {
      this.#realTime = undefined;
      this.#nextMs = this.#clock.nowMs + (options.ms ?? 3000);
    }
  }

  clear(fault: A02yyuwFault): void {
    this.#faults.delete(fault);
    if (fault === "disconnect") this.#dead = false;
  }

  /** Queues every frame due by now (called on each clock advance). */
  update(): void {
    const link = this.#link;
    if (!link || !this.#powered) return;
    const now = this.#clock.nowMs;
    if (this.#nextMs < now - BACKLOG_MS) this.#nextMs = now - BACKLOG_MS;
    while (this.#nextMs <= now) {
      const t = this.#nextMs;
      if (this.#realTime === undefined) this.#realTime = this.#rxLevel() === 0;
      this.#nextMs += this.#realTime ? 100 : 100 + 200 * this.#rng.next();
      if (this.#dead) continue;
      const bytes = this.#frame(t);
      if (bytes.length) link.deliver(bytes, t);
    }
  }

  #p(fault: A02yyuwFault, dflt = 0.3): number {
    return this.#faults.get(fault)?.p ?? dflt;
  }

  #measure(t: number): number {
    const target = this.#target(t);
    const surface = target.surface ?? "hard";
    const d = target.distanceMm;
    const realTime = this.#realTime === true;
    // Draw the noise every time so fault injection does not shift the stream.
    const sd = realTime ? 2 + 0.001 * d : 1 + 0.0008 * d;
    // The module's echo gating discards outliers: errors stay within 3 sd.
    const noise = Math.max(-3 * sd, Math.min(3 * sd, this.#rng.normal(0, sd)));
    const miss = this.#rng.next();
    if (this.#faults.has("no-echo") && this.#faultRng.chance(this.#p("no-echo", 1))) return 0;
    if (this.#faults.has("echo") && this.#faultRng.chance(this.#p("echo"))) {
      const [lo, hi] = this.#faults.get("echo")?.distanceMm ?? [80, 400];
      this.echoesSent++;
      return Math.round(lo + (hi - lo) * this.#faultRng.next());
    }
    if (surface === "none" || !(d >= 30 && d <= 4500)) return 0;
    if (surface === "soft" && (d > 2000 || miss < 0.2)) return 0;
    const mm = Math.round(d + noise);
    return mm >= 30 && mm <= 4500 ? mm : 0;
  }

  #frame(t: number): Uint8Array {
    const mm = this.#measure(t);
    const frame = this.#out;
    if (this.#faults.has("stuck") && this.#hasLast) {
      frame.set(this.#last);
    } else {
      const h = (mm >> 8) & 0xff;
      const l = mm & 0xff;
      frame[0] = 0xff;
      frame[1] = h;
      frame[2] = l;
      frame[3] = (0xff + h + l) & 0xff;
      this.#last.set(frame);
      this.#hasLast = true;
    }
    this.framesSent++;
    if (this.#faults.size === 0) return frame;
    let out = Array.from(frame);
    const r = this.#faultRng;
    if (this.#faults.has("corrupt-checksum")) {
      const p = this.#p("corrupt-checksum");
      out = out.map((b) => (r.chance(p) ? b ^ (1 << r.int(0, 7)) : b));
    }
    if (this.#faults.has("desync") && r.chance(this.#p("desync"))) {
      out.splice(r.int(0, 3), r.int(1, 2));
    }
    if (this.#faults.has("garbage") && r.chance(this.#p("garbage"))) {
      const junk = Array.from({ length: r.int(1, 8) }, () => r.int(0, 255));
      out = junk.concat(out);
    }
    if (this.#faults.has("disconnect")) {
      this.#dead = true;
      out = out.slice(0, r.int(1, 3));
    }
    return Uint8Array.from(out);
  }
}
