import { describe, expect, it } from 'vitest';
import { bytesAsFloat32, bytesAsInt16 } from '../src/audio/pcm.js';

describe('PCM byte views', () => {
  // Node Buffers from a socket are views into a shared pool at any offset; Buffer#slice does not copy.
  it('read unaligned Buffer views correctly (copying them)', () => {
    const pool = Buffer.alloc(64, 0x7f);
    pool.writeInt16LE(-1234, 1);
    pool.writeInt16LE(321, 3);
    pool.writeFloatLE(0.5, 5);
    pool.writeFloatLE(-0.25, 9);
    expect(Array.from(bytesAsInt16(pool.subarray(1, 5)))).toEqual([-1234, 321]);
    expect(Array.from(bytesAsFloat32(pool.subarray(5, 13)))).toEqual([0.5, -0.25]);
  });

  it('view aligned bytes without copying', () => {
    const bytes = new Uint8Array(8);
    const f = bytesAsFloat32(bytes);
    f[0] = 1;
    expect(bytes[3]).toBe(0x3f);
  });
});
