/**
 * Frequency response of a streaming resampler, measured with pure tones: the
 * pass-band gain (ripple) of each tone and the level of its image (going up)
 * or alias (going down), in dB. Deterministic (no timing), shared by
 * `test/resampler.test.ts` and `npm run bench` §5.
 *
 * Each tone is a float sine of amplitude 0.5, fed in 20 ms frames; its level
 * in the output is the magnitude of one DFT bin over a whole number of periods
 * (0.1 s windows, tones on a 10 Hz grid), which is exact for any delay or
 * phase, so implementations with different latency conventions compare fairly.
 */

/** A resampler under test: a fresh instance per tone, fed float frames. */
export interface SweepSubject {
  /** Resample the next frame; may return fewer samples at first (latency). */
  process(frame: Float32Array): Float32Array;
}

export interface SweepOptions {
  fromRate: number;
  toRate: number;
  /** Tones whose gain is measured (Hz, multiples of 10). */
  passTones: number[];
  /**
   * Tones whose unwanted mirror is measured (Hz, multiples of 10): going up, each tone's image at
   * `fromRate − f`; going down, tones above the output's Nyquist and their alias at `toRate − f`.
   */
  mirrorTones: number[];
}

export interface SweepResult {
  /** Gain of every pass tone, dB (0 = unchanged). */
  gainsDb: { hz: number; db: number }[];
  /** Largest |gain| over the pass tones, dB: the pass-band ripple. */
  rippleDb: number;
  /** Level of every mirror relative to its tone's input level, dB (negative). */
  mirrorsDb: { hz: number; at: number; db: number }[];
  /** The worst (highest) mirror level, dB; its negation is the image/alias rejection. */
  worstMirrorDb: number;
}

const AMP = 0.5;
/** Analysis window, s (tones on a 10 Hz grid have whole periods in it). */
const WINDOW_S = 0.1;
/** Audio skipped before the window (filter start-up and latency), s. */
const LEAD_S = 0.05;

/** Amplitude of the `hz` component of `x[start, start + n)` (one DFT bin). */
export function toneLevel(x: ArrayLike<number>, start: number, n: number, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  const w = (2 * Math.PI * hz) / rate;
  for (let i = 0; i < n; i++) {
    const v = x[start + i]!;
    re += v * Math.cos(w * i);
    im -= v * Math.sin(w * i);
  }
  return (2 * Math.hypot(re, im)) / n;
}

/** Resample a tone of `hz` through a fresh subject in 20 ms frames; returns the output. */
function run(make: () => SweepSubject, fromRate: number, hz: number): Float32Array {
  const subject = make();
  const total = Math.ceil(fromRate * (LEAD_S + WINDOW_S + 0.05));
  const frame = fromRate / 50;
  const parts: Float32Array[] = [];
  let size = 0;
  for (let off = 0; off < total; off += frame) {
    const x = new Float32Array(frame);
    for (let i = 0; i < frame; i++) x[i] = AMP * Math.sin((2 * Math.PI * hz * (off + i)) / fromRate);
    const y = subject.process(x);
    parts.push(y.slice());
    size += y.length;
  }
  const out = new Float32Array(size);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const db = (ratio: number) => 20 * Math.log10(Math.max(ratio, 1e-12));

/** Measure gains and mirrors of `make()`'s resampler. */
export function sweep(make: () => SweepSubject, opts: SweepOptions): SweepResult {
  const { fromRate, toRate } = opts;
  const start = Math.round(toRate * LEAD_S);
  const n = Math.round(toRate * WINDOW_S);
  const gainsDb = opts.passTones.map((hz) => {
    const y = run(make, fromRate, hz);
    return { hz, db: db(toneLevel(y, start, n, hz, toRate) / AMP) };
  });
  const up = toRate > fromRate;
  const mirrorsDb = opts.mirrorTones.map((hz) => {
    const at = up ? fromRate - hz : toRate - hz;
    const y = run(make, fromRate, hz);
    return { hz, at, db: db(toneLevel(y, start, n, at, toRate) / AMP) };
  });
  return {
    gainsDb,
    rippleDb: Math.max(...gainsDb.map((g) => Math.abs(g.db))),
    mirrorsDb,
    worstMirrorDb: Math.max(...mirrorsDb.map((m) => m.db)),
  };
}

/** `from`, `from + step`, … up to `to` inclusive. */
export function tones(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let f = from; f <= to; f += step) out.push(f);
  return out;
}
