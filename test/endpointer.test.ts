import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Endpointer, type EndpointerEvent } from '../src/audio/endpointer.js';
import { decodeMulaw } from '../src/audio/g711.js';
import { ConfigurationError } from '../src/errors/index.js';

interface Truth {
  utterances: Array<{ text: string; startMs: number; endMs: number }>;
}
const truth = JSON.parse(readFileSync(new URL('../examples/audio/call-ko.json', import.meta.url), 'utf8')) as Truth;

/** Tiny local WAV reader: the bytes of the `data` chunk. */
function wavData(name: string): Uint8Array {
  const b = readFileSync(new URL(`../examples/audio/${name}`, import.meta.url));
  let off = 12;
  while (off + 8 <= b.length) {
    const id = b.toString('ascii', off, off + 4);
    const size = b.readUInt32LE(off + 4);
    if (id === 'data') return new Uint8Array(b.subarray(off + 8, off + 8 + size));
    off += 8 + size + (size & 1);
  }
  throw new Error(`no data chunk in ${name}`);
}

const pcm8k = decodeMulaw(wavData('call-ko-8k-mulaw.wav'));
const pcm16kBytes = wavData('call-ko-16k-linear16.wav');
const pcm16k = new Int16Array(pcm16kBytes.buffer, pcm16kBytes.byteOffset, pcm16kBytes.byteLength / 2);

function run(ep: Endpointer, samples: Int16Array, chunk: number): EndpointerEvent[] {
  const events: EndpointerEvent[] = [];
  for (let i = 0; i < samples.length; i += chunk) events.push(...ep.push(samples.subarray(i, i + chunk)));
  events.push(...ep.flush());
  return events;
}

function ends(events: EndpointerEvent[]): Array<Extract<EndpointerEvent, { type: 'voiceend' }>> {
  return events.filter((e): e is Extract<EndpointerEvent, { type: 'voiceend' }> => e.type === 'voiceend');
}

function expectMatchesTruth(events: EndpointerEvent[]): void {
  const utts = ends(events);
  expect(utts).toHaveLength(truth.utterances.length);
  utts.forEach((u, i) => {
    const t = truth.utterances[i]!;
    expect(Math.abs(u.startMs - t.startMs)).toBeLessThanOrEqual(150);
    expect(Math.abs(u.endMs - t.endMs)).toBeLessThanOrEqual(150);
    expect(u.reason).toBe('silence');
  });
  // Every voiceend is preceded by its voicestart.
  expect(events.map((e) => e.type)).toEqual(truth.utterances.flatMap(() => ['voicestart', 'voiceend']));
}

describe('Endpointer', () => {
  it('segments the 8 kHz mu-law call into the 4 ground-truth utterances (20 ms frames)', () => {
    const ep = new Endpointer({ sampleRate: 8000 });
    expectMatchesTruth(run(ep, pcm8k, 160));
    expect(ep.positionMs).toBeCloseTo((pcm8k.length / 8000) * 1000, 6);
    expect(ep.inSpeech).toBe(false);
  });

  it('segments the 16 kHz LINEAR16 call the same way', () => {
    expectMatchesTruth(run(new Endpointer({ sampleRate: 16000 }), pcm16k, 320));
  });

  it('gives the same events whatever the chunk size (20 ms, 100 ms, odd sizes, whole file)', () => {
    const ref = run(new Endpointer({ sampleRate: 8000 }), pcm8k, 160);
    for (const chunk of [800, 37, pcm8k.length]) {
      expect(run(new Endpointer({ sampleRate: 8000 }), pcm8k, chunk)).toEqual(ref);
    }
  });

  it('emits voiceend only after silenceMs of silence, and voicestart once minSpeechMs is reached', () => {
    const ep = new Endpointer({ sampleRate: 8000, silenceMs: 500 });
    const t0 = truth.utterances[0]!;
    let startAt = -1;
    let endAt = -1;
    for (let i = 0; i < pcm8k.length && endAt < 0; i += 160) {
      for (const ev of ep.push(pcm8k.subarray(i, i + 160))) {
        if (ev.type === 'voicestart') startAt = ep.positionMs;
        else endAt = ep.positionMs;
      }
    }
    expect(startAt).toBeGreaterThanOrEqual(t0.startMs + 60 - 150);
    expect(startAt).toBeLessThan(t0.startMs + 250);
    expect(endAt).toBeGreaterThanOrEqual(t0.endMs + 500 - 150);
    expect(endAt).toBeLessThan(t0.endMs + 700);
  });

  it('a longer silenceMs merges nothing here but delays the decision; a shorter one still finds 4 utterances', () => {
    const long = ends(run(new Endpointer({ sampleRate: 8000, silenceMs: 1000 }), pcm8k, 160));
    expect(long).toHaveLength(4);
    const merged = ends(run(new Endpointer({ sampleRate: 8000, silenceMs: 1500 }), pcm8k, 160));
    expect(merged).toHaveLength(1); // gaps are 1.4 s
    expect(merged[0]!.startMs).toBeLessThan(900);
  });

  it('maxUtteranceMs force-splits long utterances', () => {
    const events = run(new Endpointer({ sampleRate: 8000, maxUtteranceMs: 700 }), pcm8k, 160);
    const utts = ends(events);
    const first = utts.filter((u) => u.endMs <= truth.utterances[0]!.endMs + 150);
    expect(first.length).toBeGreaterThanOrEqual(3); // 1.8 s utterance in <= 700 ms pieces
    expect(first[0]!.reason).toBe('max-duration');
    expect(first[0]!.endMs - first[0]!.startMs).toBeLessThanOrEqual(700);
    for (const u of utts) expect(u.endMs - u.startMs).toBeLessThanOrEqual(700);
    // pieces are contiguous: the next one starts where the split happened
    expect(first[1]!.startMs).toBe(first[0]!.endMs);
  });

  it('flush closes an open utterance with reason "flush" at the last voiced frame', () => {
    const ep = new Endpointer({ sampleRate: 8000 });
    const cut = 1500 * 8; // 1.5 s, in the middle of the first utterance
    const events = ep.push(pcm8k.subarray(0, cut));
    expect(events).toEqual([{ type: 'voicestart', startMs: expect.any(Number) as number }]);
    expect(ep.inSpeech).toBe(true);
    const flushed = ep.flush();
    expect(flushed).toHaveLength(1);
    const ev = flushed[0]!;
    expect(ev.type === 'voiceend' && ev.reason).toBe('flush');
    if (ev.type === 'voiceend') {
      expect(ev.endMs).toBeLessThanOrEqual(1500);
      expect(ev.endMs).toBeGreaterThan(1400);
    }
    expect(ep.inSpeech).toBe(false);
    expect(ep.flush()).toEqual([]);
  });

  it('reset starts over at position 0', () => {
    const ep = new Endpointer({ sampleRate: 8000 });
    ep.push(pcm8k.subarray(0, 12000));
    ep.reset();
    expect(ep.positionMs).toBe(0);
    expect(ep.inSpeech).toBe(false);
    expect(ends(run(ep, pcm8k, 160))).toHaveLength(4);
  });

  it('digital silence never starts speech; a fixed threshold works', () => {
    const ep = new Endpointer({ sampleRate: 16000 });
    expect(ep.push(new Int16Array(16000))).toEqual([]);
    const fixed = run(new Endpointer({ sampleRate: 8000, thresholdDb: -40 }), pcm8k, 160);
    expect(ends(fixed)).toHaveLength(4);
  });

  it('validates options', () => {
    expect(() => new Endpointer({ sampleRate: 0 })).toThrow(ConfigurationError);
    expect(() => new Endpointer({ sampleRate: -8000 })).toThrow(ConfigurationError);
    expect(() => new Endpointer({ sampleRate: 8000.5 })).toThrow(ConfigurationError);
    expect(() => new Endpointer({ sampleRate: 8000, silenceMs: 0 })).toThrow(ConfigurationError);
    expect(() => new Endpointer({ sampleRate: 8000, frameMs: -1 })).toThrow(ConfigurationError);
    expect(() => new Endpointer({ sampleRate: 8000, minSpeechMs: -1 })).toThrow(ConfigurationError);
    expect(() => new Endpointer({ sampleRate: 8000, maxUtteranceMs: Number.NaN })).toThrow(ConfigurationError);
    expect(() => new Endpointer({ sampleRate: 8000, thresholdDb: Number.POSITIVE_INFINITY })).toThrow(ConfigurationError);
  });
});
