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

const asInt16 = (b: Uint8Array) => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

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

  it('a chunk larger than the retention cap is converted correctly and not kept as scratch', () => {
    const conv = new AudioConverter(fmt('mulaw', 8000), fmt('linear16', 16000));
    conv.convert(mulaw8k.data.subarray(0, 160));
    const kept = conv.retainedScratchSamples;
    const big = new Uint8Array(MAX_RETAINED_SAMPLES + 1000).fill(0xff);
    expect(conv.convert(big).byteLength).toBeGreaterThan(0);
    expect(conv.retainedScratchSamples).toBe(kept);
  });
});

describe('AudioConverter outputs', () => {
  it('mu-law → LINEAR16: the decoded samples, each output left intact by later frames', () => {
    const conv = new AudioConverter(fmt('mulaw', 8000), fmt('linear16', 8000));
    const frames: Uint8Array[] = [];
    const outputs: Uint8Array[] = [];
    for (let off = 0; off < 160 * 300; off += 160) {
      const f = mulaw8k.data.subarray(off, off + 160);
      frames.push(f);
      outputs.push(conv.convert(f));
    }
    // checked after every frame was converted: no output was overwritten by a later call
    outputs.forEach((o, i) => expect(asInt16(o)).toEqual(decodeMulaw(frames[i]!)));
  });

  it('mu-law 8 kHz → LINEAR16 16 kHz equals decode + a stateful Resampler over the same frames', () => {
    const conv = new AudioConverter(fmt('mulaw', 8000), fmt('linear16', 16000));
    const ref = new Resampler({ fromRate: 8000, toRate: 16000 });
    const got: number[] = [];
    const want: number[] = [];
    const outputs: Uint8Array[] = [];
    for (let off = 0; off < 160 * 200; off += 160) {
      const f = mulaw8k.data.subarray(off, off + 160);
      outputs.push(conv.convert(f));
      want.push(...ref.process(decodeMulaw(f)));
    }
    outputs.push(conv.flush());
    want.push(...ref.flush());
    for (const o of outputs) got.push(...asInt16(o));
    expect(got).toEqual(want);
  });

  it('LINEAR16 16 kHz → mu-law 8 kHz equals resample + encode', () => {
    const conv = new AudioConverter(fmt('linear16', 16000), fmt('mulaw', 8000));
    const ref = new Resampler({ fromRate: 16000, toRate: 8000 });
    const pcm = decodeMulaw(mulaw8k.data.subarray(0, 16000)); // any signal, used as 16 kHz input
    const outputs: Uint8Array[] = [];
    const want: number[] = [];
    for (let off = 0; off < pcm.length; off += 320) {
      const frame = pcm.slice(off, off + 320);
      outputs.push(conv.convert(new Uint8Array(frame.buffer)));
      want.push(...encodeMulaw(ref.process(frame)));
    }
    expect(outputs.flatMap((o) => [...o])).toEqual(want);
  });

});
