/**
 * G.711 codecs against reference values.
 *
 * References:
 * - The decoder outputs of ITU-T G.711 (Tables 1a/2a), as 16-bit values (mu-law ×4, A-law ×8):
 *   every one of the 256 codes, through a transcription of the public-domain Sun Microsystems
 *   `g711.c` (`ulaw2linear`, `alaw2linear`; the code SoX, Asterisk and most others use), and
 *   through the independent `alawmulaw` package.
 * - Encoders: every one of the 65,536 16-bit inputs. mu-law against `alawmulaw`; A-law against a
 *   transcription of Sun's `linear2alaw` (identical to ITU-T G.191 STL `alaw_compress`, which
 *   takes the one's complement of negative samples). `alawmulaw`'s A-law encoder negates
 *   negative samples instead (two's complement), so it differs from the STL by one code for 127
 *   negative inputs at segment boundaries; it is not used as the A-law reference.
 * - Codec-independent properties: every code round-trips, the encoder is monotonic, and the
 *   quantisation error is at most half a step of the segment.
 */
import alawmulaw from 'alawmulaw';
import { describe, expect, it } from 'vitest';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeAlawSample, encodeMulaw, encodeMulawSample } from '../src/audio/g711.js';

// ── Sun Microsystems g711.c, transcribed (16-bit in and out) ───────────────────────────────
const SEG_AEND = [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff];

function search(val: number, table: readonly number[]): number {
  for (let i = 0; i < table.length; i++) if (val <= table[i]!) return i;
  return table.length;
}

function sunLinear2alaw(pcm: number): number {
  let v = pcm >> 3;
  let mask: number;
  if (v >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = search(v, SEG_AEND);
  if (seg >= 8) return 0x7f ^ mask;
  let aval = seg << 4;
  aval |= seg < 2 ? (v >> 1) & 0x0f : (v >> seg) & 0x0f;
  return aval ^ mask;
}

function sunAlaw2linear(a: number): number {
  const x = a ^ 0x55;
  let t = (x & 0x0f) << 4;
  const seg = (x & 0x70) >> 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return x & 0x80 ? t : -t;
}

function sunUlaw2linear(u: number): number {
  const x = ~u & 0xff;
  let t = ((x & 0x0f) << 3) + 0x84;
  t <<= (x & 0x70) >> 4;
  return x & 0x80 ? 0x84 - t : t - 0x84;
}

const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);
const ALL_SAMPLES = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);

/** Width (16-bit units) of the quantisation interval a decoded value sits in. */
function stepOf(decoded: number, law: 'mulaw' | 'alaw'): number {
  const a = Math.abs(decoded);
  if (law === 'alaw') {
    // Segments 0 and 1: step 16 (2 in 13-bit units); then doubling: 32, 64, … 1024.
    if (a < 512) return 16;
    return 16 << Math.floor(Math.log2(a / 256));
  }
  // mu-law: (a + 132) lies in [132·2^s, 132·2^(s+1)); step 8·2^s.
  return 8 << Math.floor(Math.log2((a + 132) / 132));
}

describe('G.711 decoders: every code against the reference values', () => {
  it('mu-law: all 256 codes equal Sun g711.c ulaw2linear and alawmulaw', () => {
    const ours = Array.from(decodeMulaw(ALL_CODES));
    expect(ours).toEqual(Array.from(ALL_CODES, sunUlaw2linear));
    expect(ours).toEqual(Array.from(alawmulaw.mulaw.decode(ALL_CODES)));
  });

  it('A-law: all 256 codes equal Sun g711.c alaw2linear and alawmulaw', () => {
    const ours = Array.from(decodeAlaw(ALL_CODES));
    expect(ours).toEqual(Array.from(ALL_CODES, sunAlaw2linear));
    expect(ours).toEqual(Array.from(alawmulaw.alaw.decode(ALL_CODES)));
  });

  it('known values from the G.711 tables', () => {
    // mu-law: 0xFF and 0x7F are the two zeros, 0x00/0x80 the extremes (±8031 × 4).
    const mu = decodeMulaw(Uint8Array.from([0xff, 0x7f, 0x00, 0x80, 0xfe, 0x7e, 0xef, 0x0f]));
    expect(Array.from(mu)).toEqual([0, 0, -32124, 32124, 8, -8, 132 * 2 - 132, -(132 * 128 - 132)]);
    // A-law: 0xD5/0x55 are ±1 × 8 (the smallest level), 0xAA/0x2A the extremes (±4032 × 8).
    const a = decodeAlaw(Uint8Array.from([0xd5, 0x55, 0xaa, 0x2a, 0xd4, 0x54]));
    expect(Array.from(a)).toEqual([8, -8, 32256, -32256, 24, -24]);
  });

  it('decoded values are symmetric: code c and c with the sign bit flipped are negatives', () => {
    const mu = decodeMulaw(ALL_CODES);
    const a = decodeAlaw(ALL_CODES);
    for (let c = 0; c < 128; c++) {
      expect(mu[c]! + mu[c | 0x80]!).toBe(0);
      expect(a[c]! + a[c | 0x80]!).toBe(0);
    }
  });
});

describe('G.711 encoders: every 16-bit input', () => {
  it('mu-law: all 65,536 inputs equal alawmulaw (the 16-bit CCITT/Sun encoder)', () => {
    const ours = encodeMulaw(ALL_SAMPLES);
    const ref = alawmulaw.mulaw.encode(ALL_SAMPLES);
    let diff = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] !== ref[i]) diff++;
    expect(diff).toBe(0);
  });

  it('A-law: all 65,536 inputs equal Sun g711.c linear2alaw (= ITU-T G.191 alaw_compress)', () => {
    const ours = encodeAlaw(ALL_SAMPLES);
    let diff = 0;
    for (let i = 0; i < ours.length; i++) if (ours[i] !== sunLinear2alaw(ALL_SAMPLES[i]!)) diff++;
    expect(diff).toBe(0);
    // alawmulaw agrees on every non-negative input (it differs only in how it folds negatives).
    const ref = alawmulaw.alaw.encode(ALL_SAMPLES);
    for (let i = 32768; i < 65536; i++) if (ours[i] !== ref[i]) diff++;
    expect(diff).toBe(0);
  });

  it('single-sample encoders agree with the array encoders', () => {
    const mu = encodeMulaw(ALL_SAMPLES);
    const a = encodeAlaw(ALL_SAMPLES);
    for (let i = 0; i < 65536; i += 61) {
      expect(encodeMulawSample(ALL_SAMPLES[i]!)).toBe(mu[i]);
      expect(encodeAlawSample(ALL_SAMPLES[i]!)).toBe(a[i]);
    }
  });
});

describe('G.711 round trips and quantisation', () => {
  it('every code round-trips decode → encode (mu-law 0x7F, "negative zero", becomes 0xFF)', () => {
    const mu = encodeMulaw(decodeMulaw(ALL_CODES));
    const a = encodeAlaw(decodeAlaw(ALL_CODES));
    for (let c = 0; c < 256; c++) {
      expect(mu[c], `mu-law 0x${c.toString(16)}`).toBe(c === 0x7f ? 0xff : c);
      expect(a[c], `A-law 0x${c.toString(16)}`).toBe(c);
    }
  });

  for (const law of ['mulaw', 'alaw'] as const) {
    it(`${law}: encode → decode is monotonic and within half a quantisation step (clipping at full scale)`, () => {
      const encode = law === 'mulaw' ? encodeMulaw : encodeAlaw;
      const decode = law === 'mulaw' ? decodeMulaw : decodeAlaw;
      const max = law === 'mulaw' ? 32124 : 32256;
      const y = decode(encode(ALL_SAMPLES));
      let worst = 0;
      for (let i = 0; i < y.length; i++) {
        const x = ALL_SAMPLES[i]!;
        if (i > 0 && y[i]! < y[i - 1]!) throw new Error(`${law}: not monotonic at ${x}`);
        if (Math.abs(x) > max) {
          expect(Math.abs(y[i]!)).toBe(max);
          continue;
        }
        // +1: the one's-complement folding of negative samples shifts them by one LSB.
        const err = Math.abs(x - y[i]!) - 1;
        worst = Math.max(worst, err / stepOf(y[i]!, law));
      }
      expect(worst).toBeLessThanOrEqual(0.5);
    });
  }
});

describe('G.711 output buffers', () => {
  it('write into a caller buffer and return a view of it (no allocation per frame)', () => {
    const frame = encodeMulaw(ALL_SAMPLES.subarray(30000, 30160));
    const pcm = new Int16Array(320);
    const out = decodeMulaw(frame, pcm);
    expect(out.buffer).toBe(pcm.buffer);
    expect(out.length).toBe(160);
    expect(Array.from(out)).toEqual(Array.from(decodeMulaw(frame)));

    const bytes = new Uint8Array(200);
    const enc = encodeAlaw(out, bytes);
    expect(enc.buffer).toBe(bytes.buffer);
    expect(enc.length).toBe(160);
    expect(Array.from(decodeAlaw(enc, new Int16Array(160))).length).toBe(160);
    expect(encodeMulaw(out, new Uint8Array(160)).length).toBe(160);
  });

  it('throw RangeError when the caller buffer is too small', () => {
    expect(() => decodeMulaw(new Uint8Array(10), new Int16Array(9))).toThrow(RangeError);
    expect(() => decodeAlaw(new Uint8Array(10), new Int16Array(9))).toThrow(RangeError);
    expect(() => encodeMulaw(new Int16Array(10), new Uint8Array(9))).toThrow(RangeError);
    expect(() => encodeAlaw(new Int16Array(10), new Uint8Array(9))).toThrow(RangeError);
  });
});
