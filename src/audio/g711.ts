/**
 * ITU-T G.711 mu-law and A-law codecs (telephony audio: Twilio sends 8 kHz mu-law).
 *
 * Decoding uses 256-entry tables built once at module load; encoding uses the
 * reference bit manipulation of the ITU-T G.711 C code (also used by
 * `alawmulaw` and SoX). Reference values: mu-law `0xFF`→0, `0x00`→−32124,
 * `0x80`→+32124; A-law `0xD5`→+8, `0x55`→−8.
 *
 * @module
 */

const MULAW_BIAS = 0x84;
const MULAW_CLIP = 32635;

function mulawDecodeSample(byte: number): number {
  const u = ~byte & 0xff;
  const t = (((u & 0x0f) << 3) + MULAW_BIAS) << ((u & 0x70) >> 4);
  return u & 0x80 ? MULAW_BIAS - t : t - MULAW_BIAS;
}

function alawDecodeSample(byte: number): number {
  const a = byte ^ 0x55;
  const seg = (a & 0x70) >> 4;
  let t = (a & 0x0f) << 4;
  if (seg === 0) t += 8;
  else if (seg === 1) t += 0x108;
  else t = (t + 0x108) << (seg - 1);
  return a & 0x80 ? t : -t;
}

const MULAW_TABLE = new Int16Array(256);
const ALAW_TABLE = new Int16Array(256);
for (let i = 0; i < 256; i++) {
  MULAW_TABLE[i] = mulawDecodeSample(i);
  ALAW_TABLE[i] = alawDecodeSample(i);
}

function outBuffer(length: number, out?: Int16Array): Int16Array {
  if (!out) return new Int16Array(length);
  if (out.length < length) throw new RangeError(`output buffer too small: ${out.length} < ${length}`);
  return out;
}

/**
 * Decode mu-law bytes to 16-bit PCM samples.
 * @param input - mu-law bytes, one sample per byte.
 * @param out - optional output buffer (at least `input.length` samples) to avoid an allocation per frame.
 * @returns Int16 samples (a view of `out` when given).
 */
export function decodeMulaw(input: Uint8Array, out?: Int16Array): Int16Array {
  const o = outBuffer(input.length, out);
  for (let i = 0; i < input.length; i++) o[i] = MULAW_TABLE[input[i]!]!;
  return out ? o.subarray(0, input.length) : o;
}

/**
 * Decode A-law bytes to 16-bit PCM samples.
 * @param input - A-law bytes, one sample per byte.
 * @param out - optional output buffer (at least `input.length` samples).
 */
export function decodeAlaw(input: Uint8Array, out?: Int16Array): Int16Array {
  const o = outBuffer(input.length, out);
  for (let i = 0; i < input.length; i++) o[i] = ALAW_TABLE[input[i]!]!;
  return out ? o.subarray(0, input.length) : o;
}

const MULAW_EXP = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let e = 0;
  for (let v = i; v > 1; v >>= 1) e++;
  MULAW_EXP[i] = e;
}

/** Encode one 16-bit sample to mu-law. */
export function encodeMulawSample(sample: number): number {
  let s = sample;
  const sign = (s >> 8) & 0x80;
  if (sign) s = -s;
  if (s > MULAW_CLIP) s = MULAW_CLIP;
  s += MULAW_BIAS;
  const exponent = MULAW_EXP[(s >> 7) & 0xff]!;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** Encode one 16-bit sample to A-law. */
export function encodeAlawSample(sample: number): number {
  let s = sample;
  let mask: number;
  if (s >= 0) mask = 0xd5;
  else {
    mask = 0x55;
    s = -s - 1;
  }
  if (s > 32767) s = 32767;
  s >>= 4;
  let seg = 0;
  for (let v = s >> 4; v > 0 && seg < 8; v >>= 1) seg++;
  let aval: number;
  if (seg >= 8) aval = 0x7f;
  else {
    aval = seg << 4;
    aval |= seg < 1 ? s & 0x0f : (s >> (seg - 1)) & 0x0f;
  }
  return (aval ^ mask) & 0xff;
}

/**
 * Encode 16-bit PCM samples to mu-law bytes.
 * @param out - optional output buffer (at least `input.length` bytes).
 */
export function encodeMulaw(input: Int16Array, out?: Uint8Array): Uint8Array {
  const o = out ?? new Uint8Array(input.length);
  if (o.length < input.length) throw new RangeError(`output buffer too small: ${o.length} < ${input.length}`);
  for (let i = 0; i < input.length; i++) o[i] = encodeMulawSample(input[i]!);
  return out ? o.subarray(0, input.length) : o;
}

/**
 * Encode 16-bit PCM samples to A-law bytes.
 * @param out - optional output buffer (at least `input.length` bytes).
 */
export function encodeAlaw(input: Int16Array, out?: Uint8Array): Uint8Array {
  const o = out ?? new Uint8Array(input.length);
  if (o.length < input.length) throw new RangeError(`output buffer too small: ${o.length} < ${input.length}`);
  for (let i = 0; i < input.length; i++) o[i] = encodeAlawSample(input[i]!);
  return out ? o.subarray(0, input.length) : o;
}
