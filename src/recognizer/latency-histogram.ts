/**
 * A fixed-size log-linear histogram of non-negative millisecond values:
 * exact 1 ms buckets below 128 ms, then 64 buckets per power of two (at most
 * 1/128 relative error), up to 2^24 ms (~4.7 h; larger values land in the last
 * bucket, `max` stays exact). 1216 counters, ~5 KB, whatever the number of
 * values: percentiles over every value ever recorded in bounded memory.
 * @module
 * @internal
 */

const LINEAR = 128;
const SUB = 64;
const MAX_EXP = 23;
const SIZE = LINEAR + (MAX_EXP - 6) * SUB;

/** Count, extremes, mean and percentiles of a set of durations, ms (all 0 when `count` is 0). */
export interface LatencySummary {
  /** How many durations were recorded. */
  count: number;
  /** Shortest, ms. */
  min: number;
  /** Longest, ms. */
  max: number;
  /** Arithmetic mean, ms. */
  mean: number;
  /** Median, ms. */
  p50: number;
  /** 95th percentile, ms. */
  p95: number;
  /** 99th percentile, ms. */
  p99: number;
}

function indexOf(v: number): number {
  if (v < LINEAR) return v;
  if (v >= 2 ** (MAX_EXP + 1)) return SIZE - 1;
  const e = 31 - Math.clz32(v);
  const shift = e - 6;
  const m = Math.min(2 * SUB - 1, Math.floor(v / 2 ** shift));
  return LINEAR + (e - 7) * SUB + (m - SUB);
}

/** Middle of bucket `i`. */
function valueOf(i: number): number {
  if (i < LINEAR) return i;
  const k = i - LINEAR;
  const e = 7 + Math.floor(k / SUB);
  const m = SUB + (k % SUB);
  const width = 2 ** (e - 6);
  return m * width + (width - 1) / 2;
}

/** @internal */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(SIZE);
  private n = 0;
  private sum = 0;
  private lo = Infinity;
  private hi = 0;

  /** Record one value, ms (rounded; negative and non-finite values are ignored). */
  record(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) return;
    const v = Math.round(ms);
    this.counts[indexOf(v)]!++;
    this.n++;
    this.sum += v;
    if (v < this.lo) this.lo = v;
    if (v > this.hi) this.hi = v;
  }

  get count(): number {
    return this.n;
  }

  /** The value at percentile `p` (0–100), ms, clamped to the recorded min/max. */
  percentile(p: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) {
        if (i === SIZE - 1) return this.hi; // the overflow bucket
        return Math.min(this.hi, Math.max(this.lo, Math.round(valueOf(i))));
      }
    }
    return this.hi;
  }

  summary(): LatencySummary {
    if (this.n === 0) return { count: 0, min: 0, max: 0, mean: 0, p50: 0, p95: 0, p99: 0 };
    return {
      count: this.n,
      min: this.lo,
      max: this.hi,
      mean: Math.round((this.sum / this.n) * 10) / 10,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
    };
  }
}
