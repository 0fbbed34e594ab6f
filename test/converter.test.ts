import { describe, expect, it } from 'vitest';
import { AudioConverter } from '../src/audio/converter.js';
import { decodeMulaw, encodeMulaw } from '../src/audio/g711.js';
import { Resampler } from '../src/audio/resampler.js';
import { mulaw8k } from './helpers/sample-call.js';

const fmt = (encoding: 'linear16' | 'mulaw' | 'alaw' | 'float32', sampleRate: number) => ({ encoding, sampleRate, channels: 1 as const });
const asInt16 = (b: Uint8Array) => new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));

describe('AudioConverter', () => {
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

  it('passes identical formats through untouched', () => {
    const conv = new AudioConverter(fmt('mulaw', 8000), fmt('mulaw', 8000));
    const f = mulaw8k.data.subarray(0, 160);
    expect(conv.convert(f)).toBe(f);
  });
});
