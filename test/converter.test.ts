import { describe, expect, it } from 'vitest';
import { AudioConverter, MAX_RETAINED_SAMPLES } from '../src/audio/converter.js';
import type { AudioEncoding, AudioFormat } from '../src/audio/format.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../src/audio/g711.js';
import { float32ToPcm16, int16AsBytes, pcm16ToFloat32 } from '../src/audio/pcm.js';
import { Resampler } from '../src/audio/resampler.js';
import { testSignal } from './fixtures/make-fixtures.js';
import { mulaw8k } from './helpers/sample-call.js';

const fmt = (encoding: AudioEncoding, sampleRate: number): Required<AudioFormat> => ({ encoding, sampleRate, channels: 1 });

/** `pcm` (Int16) in `encoding`, as bytes. */
function encodeAs(pcm: Int16Array, encoding: AudioEncoding): Uint8Array {
  switch (encoding) {
    case 'linear16':
      return new Uint8Array(int16AsBytes(pcm));
    case 'mulaw':
      return encodeMulaw(pcm);
    case 'alaw':
      return encodeAlaw(pcm);
    case 'float32': {
      const f = pcm16ToFloat32(pcm);
      return new Uint8Array(f.buffer);
    }
  }
}

const sampleBytes = (e: AudioEncoding): number => (e === 'linear16' ? 2 : e === 'float32' ? 4 : 1);

/** Convert `bytes` in frames of `frameSamples`, copying every result, then flush. */
function convertFramed(conv: AudioConverter, bytes: Uint8Array, frameSamples: number): Uint8Array {
  const step = frameSamples * sampleBytes(conv.input.encoding);
  const parts: Uint8Array[] = [];
  for (let off = 0; off < bytes.length; off += step) parts.push(conv.convert(bytes.subarray(off, off + step)).slice());
  parts.push(conv.flush().slice());
  return Buffer.concat(parts);
}

describe('AudioConverter', () => {
  const pairs: [AudioFormat, AudioFormat][] = [
    [fmt('mulaw', 8000), fmt('linear16', 8000)],
    [fmt('mulaw', 8000), fmt('linear16', 16000)],
    [fmt('alaw', 8000), fmt('linear16', 16000)],
    [fmt('linear16', 16000), fmt('mulaw', 8000)],
    [fmt('linear16', 44100), fmt('linear16', 16000)],
    [fmt('float32', 16000), fmt('linear16', 16000)],
    [fmt('linear16', 8000), fmt('float32', 16000)],
  ];

  for (const [input, output] of pairs) {
    it(`${input.encoding}/${input.sampleRate} -> ${output.encoding}/${output.sampleRate}: 20 ms frames give the one-shot result`, () => {
      const pcm = testSignal(input.sampleRate / 2 + 37);
      const bytes = encodeAs(pcm, input.encoding);
      const whole = convertFramed(new AudioConverter(fmt(input.encoding, input.sampleRate), fmt(output.encoding, output.sampleRate)), bytes, pcm.length);
      const framed = convertFramed(new AudioConverter(fmt(input.encoding, input.sampleRate), fmt(output.encoding, output.sampleRate)), bytes, input.sampleRate / 50);
      expect(Buffer.from(framed).equals(Buffer.from(whole))).toBe(true);

      // And the one-shot result is the composition of the exported helpers.
      let ref =
        input.encoding === 'mulaw'
          ? decodeMulaw(bytes)
          : input.encoding === 'alaw'
            ? decodeAlaw(bytes)
            : input.encoding === 'float32'
              ? float32ToPcm16(pcm16ToFloat32(pcm))
              : pcm;
      if (input.sampleRate !== output.sampleRate) {
        const r = new Resampler({ fromRate: input.sampleRate, toRate: output.sampleRate });
        ref = Int16Array.from([...r.process(ref), ...r.flush()]);
      }
      expect(Buffer.from(whole).equals(Buffer.from(encodeAs(ref, output.encoding)))).toBe(true);
      const outSamples = whole.length / sampleBytes(output.encoding);
      expect(outSamples).toBe(Math.round((pcm.length * output.sampleRate) / input.sampleRate));
    });
  }

  it('same format in and out passes the caller\'s bytes through untouched (no copy)', () => {
    const conv = new AudioConverter(fmt('mulaw', 8000), fmt('mulaw', 8000));
    const frame = mulaw8k.data.subarray(0, 160);
    expect(conv.convert(frame)).toBe(frame);
    expect(conv.flush().length).toBe(0);
  });

  it('reuses its scratch buffers: 20 ms Twilio frames allocate no new output buffer after the first', () => {
    for (const output of [fmt('linear16', 8000), fmt('linear16', 16000)]) {
      const conv = new AudioConverter(fmt('mulaw', 8000), output);
      const buffers = new Set<ArrayBufferLike>();
      const expected = new AudioConverter(fmt('mulaw', 8000), output);
      for (let off = 0; off + 160 <= 16000; off += 160) {
        const frame = mulaw8k.data.subarray(off, off + 160);
        const out = conv.convert(frame);
        const copy = expected.convert(frame).slice();
        expect(Buffer.from(out).equals(Buffer.from(copy))).toBe(true);
        buffers.add(out.buffer);
      }
      expect(buffers.size, `${output.encoding}/${output.sampleRate}`).toBe(1);
    }
  });

  it('a chunk larger than the retention cap is converted correctly but not kept as scratch', () => {
    const conv = new AudioConverter(fmt('mulaw', 8000), fmt('linear16', 8000));
    const small = conv.convert(mulaw8k.data.subarray(0, 160));
    const smallBuffer = small.buffer;
    const big = mulaw8k.data.subarray(0, MAX_RETAINED_SAMPLES + 1000);
    const out = conv.convert(big);
    expect(out.byteLength).toBe(big.length * 2);
    expect(Buffer.from(out).equals(Buffer.from(int16AsBytes(decodeMulaw(big))))).toBe(true);
    // The next small frame goes back to the small scratch buffer.
    expect(conv.convert(mulaw8k.data.subarray(160, 320)).buffer).toBe(smallBuffer);
  });
});
