/**
 * The 0.1 `Resampler` design, kept for `npm run bench` §5 as the baseline the
 * current one is measured against in the same run (as `baseline-client.ts` is
 * for the seeds' client): a Kaiser-windowed sinc polyphase FIR with its cutoff
 * at 0.45 × the lower rate and 16 zero crossings each side at β 7 (0.1's
 * `'medium'`, K = 18 at 8→16 kHz), computed by the same four-accumulator dot
 * product over a Float64 history, for every output sample (no half-band
 * paths). Streaming and framing behaviour as in 0.1; the exact-count and flush
 * machinery is left out (the bench only feeds frames).
 */

const CUTOFF = 0.45;
const ZERO_CROSSINGS = 16;
const BETA = 7;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function dot(buf: Float64Array, pos: number, coeffs: Float64Array, c: number, taps: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let j = 0; j < taps; j += 4) {
    a0 += buf[pos + j]! * coeffs[c + j]!;
    a1 += buf[pos + j + 1]! * coeffs[c + j + 1]!;
    a2 += buf[pos + j + 2]! * coeffs[c + j + 2]!;
    a3 += buf[pos + j + 3]! * coeffs[c + j + 3]!;
  }
  return a0 + a1 + (a2 + a3);
}

/** 0.1's polyphase resampler at its default quality, frame by frame (Int16 or float). */
export class BaselineResampler {
  private readonly up: number;
  private readonly down: number;
  private readonly taps: number;
  private readonly coeffs: Float64Array;
  private readonly buf: Float64Array;
  private bufLen: number;
  private readPos = 0;
  private phase = 0;
  /** Output samples owed minus those returned; the last `delay` are held back (look-ahead). */
  private owed = 0;
  private inRem = 0;
  private readonly delay: number;

  constructor(fromRate: number, toRate: number) {
    const g = gcd(fromRate, toRate);
    this.up = toRate / g;
    this.down = fromRate / g;
    const fc = CUTOFF * Math.min(1, this.up / this.down);
    const half = 2 * Math.ceil(ZERO_CROSSINGS / (4 * fc));
    this.taps = 2 * half;
    this.coeffs = new Float64Array(this.up * this.taps);
    const i0 = besselI0(BETA);
    for (let p = 0; p < this.up; p++) {
      let sum = 0;
      for (let j = 0; j < this.taps; j++) {
        const t = p / this.up + half - 1 - j;
        const x = t / half;
        let h = 0;
        if (x > -1 && x < 1) {
          const a = 2 * fc * t;
          h = 2 * fc * (a === 0 ? 1 : Math.sin(Math.PI * a) / (Math.PI * a)) * (besselI0(BETA * Math.sqrt(1 - x * x)) / i0);
        }
        this.coeffs[p * this.taps + j] = h;
        sum += h;
      }
      for (let j = 0; j < this.taps; j++) this.coeffs[p * this.taps + j]! /= sum;
    }
    this.delay = Math.floor((2 * half * this.up - this.down) / (2 * this.down)) + 1;
    this.buf = new Float64Array(this.taps + Math.ceil(this.down / this.up) + 4 + 4096);
    this.bufLen = half - 1;
  }

  /** One Int16 frame (at most 4096 samples) in; the completed output samples out. */
  process(frame: Int16Array, out: Int16Array): Int16Array {
    const n = this.push(frame, 1 / 32768);
    return out.subarray(0, this.emit(n, out, null));
  }

  /** One float frame in; the completed output samples out (fresh array). */
  processFloat(frame: Float32Array): Float32Array {
    const n = this.push(frame, 1);
    const out = new Float32Array(n);
    return out.subarray(0, this.emit(n, null, out));
  }

  /** Append a frame to the history; returns how many outputs are now due. */
  private push(frame: Int16Array | Float32Array, scale: number): number {
    const r = Math.min(this.readPos, this.bufLen);
    this.buf.copyWithin(0, r, this.bufLen);
    this.bufLen -= r;
    this.readPos -= r;
    for (let i = 0; i < frame.length; i++) this.buf[this.bufLen++] = frame[i]! * scale;
    const total = this.inRem + frame.length;
    const round = (x: number) => Math.floor((2 * x * this.up + this.down) / (2 * this.down));
    this.owed += Math.floor(total / this.down) * this.up + round(total % this.down) - round(this.inRem);
    this.inRem = total % this.down;
    return Math.max(0, this.owed - this.delay);
  }

  /** 0.1's inner loop (it had one copy per output type; one loop with a branch per sample here). */
  private emit(count: number, outI: Int16Array | null, outF: Float32Array | null): number {
    const { buf, coeffs, taps, up, down, bufLen } = this;
    const stepInt = Math.floor(down / up);
    const stepFrac = down % up;
    let pos = this.readPos;
    let phase = this.phase;
    let w = 0;
    while (w < count && pos + taps <= bufLen) {
      const v = dot(buf, pos, coeffs, phase * taps, taps);
      if (outI) {
        const s = Math.round(v * 32768);
        outI[w++] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
      } else {
        outF![w++] = v;
      }
      pos += stepInt;
      phase += stepFrac;
      if (phase >= up) {
        phase -= up;
        pos++;
      }
    }
    this.readPos = pos;
    this.phase = phase;
    this.owed -= w;
    return w;
  }
}
