import { describe, expect, it } from 'vitest';
import { bytesAsFloat32, bytesAsInt16, float32ToPcm16, int16AsBytes, pcm16ToFloat32 } from '../src/audio/pcm.js';

describe('PCM conversions', () => {
  it('pcm16ToFloat32 / float32ToPcm16 use the 32768 scale, round, clamp, and round-trip every int16', () => {
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    const f = pcm16ToFloat32(all);
    expect(f[0]).toBe(-1);
    expect(f[65535]).toBe(32767 / 32768);
    expect(Array.from(float32ToPcm16(f))).toEqual(Array.from(all));
    expect(Array.from(float32ToPcm16(Float32Array.from([1, 1.5, -1.5, 0.5, -0.25, 1 / 65536])))).toEqual([
      32767, 32767, -32768, 16384, -8192, 1,
    ]);
  });

  it('write into a caller buffer and return a view of it', () => {
    const out = new Float32Array(8);
    const v = pcm16ToFloat32(Int16Array.from([16384, -16384]), out);
    expect(v.buffer).toBe(out.buffer);
    expect(Array.from(v)).toEqual([0.5, -0.5]);
    const o16 = new Int16Array(8);
    expect(float32ToPcm16(v, o16).buffer).toBe(o16.buffer);
    expect(() => pcm16ToFloat32(new Int16Array(9), out)).toThrow(RangeError);
    expect(() => float32ToPcm16(new Float32Array(9), o16)).toThrow(RangeError);
  });

  it('bytesAsInt16 / bytesAsFloat32 read little-endian samples from a Node Buffer view at any offset', () => {
    const samples = Int16Array.from([1, -2, 300, -32768, 32767]);
    const floats = Float32Array.from([0.5, -0.25, 1e-3]);
    for (const offset of [0, 1, 2, 3]) {
      // A Buffer from the shared pool: its slice() is a view, not a copy (the case that broke before).
      const pool = Buffer.allocUnsafe(64);
      pool.set(int16AsBytes(samples), offset);
      const view = pool.subarray(offset, offset + samples.byteLength);
      expect(Array.from(bytesAsInt16(view)), `int16 @${offset}`).toEqual(Array.from(samples));
      pool.set(new Uint8Array(floats.buffer), offset);
      const fview = pool.subarray(offset, offset + floats.byteLength);
      expect(Array.from(bytesAsFloat32(fview)), `float32 @${offset}`).toEqual(Array.from(floats));
    }
    expect(() => bytesAsInt16(new Uint8Array(3))).toThrow(RangeError);
    expect(() => bytesAsFloat32(new Uint8Array(6))).toThrow(RangeError);
  });
});
