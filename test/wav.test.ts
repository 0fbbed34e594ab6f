import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readWav } from '../src/audio/wav.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../src/audio/g711.js';
import { bytesAsFloat32, bytesAsInt16 } from '../src/audio/pcm.js';
import { AudioFormatError, isSttError } from '../src/errors/index.js';
import {
  FIXTURE_DIR,
  INVALID_FIXTURES,
  VALID_FIXTURES,
  factChunk,
  fmtChunk,
  listChunk,
  riff,
  testSignal,
} from './fixtures/make-fixtures.js';

const EXAMPLES = fileURLToPath(new URL('../examples/audio/', import.meta.url));

function fixture(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(FIXTURE_DIR, name)));
}

function expectInvalid(bytes: Uint8Array | ArrayBuffer, message: RegExp): void {
  let caught: unknown;
  try {
    readWav(bytes);
  } catch (err) {
    caught = err;
  }
  expect(caught, 'readWav should throw').toBeInstanceOf(AudioFormatError);
  expect(isSttError(caught) && caught.code).toBe('INVALID_AUDIO');
  expect((caught as Error).message).toMatch(message);
}

describe('readWav: example calls', () => {
  it('parses the 8 kHz mu-law example (tag 7, fact chunk)', () => {
    const bytes = readFileSync(join(EXAMPLES, 'call-ko-8k-mulaw.wav'));
    const wav = readWav(bytes);
    expect(wav.format).toEqual({ encoding: 'mulaw', sampleRate: 8000, channels: 1 });
    expect(wav.durationMs).toBeGreaterThanOrEqual(10138);
    expect(wav.durationMs).toBeLessThanOrEqual(10140);
    expect(wav.data.length).toBe(81115);
    // A view into the Buffer, not a copy.
    expect(wav.data.buffer).toBe(bytes.buffer);
    expect(wav.data.byteOffset).toBe(bytes.byteOffset + 0x3a);
  });

  it('parses the 16 kHz LINEAR16 example', () => {
    const bytes = readFileSync(join(EXAMPLES, 'call-ko-16k-linear16.wav'));
    const wav = readWav(bytes);
    expect(wav.format).toEqual({ encoding: 'linear16', sampleRate: 16000, channels: 1 });
    expect(Math.abs(wav.durationMs - 10139)).toBeLessThanOrEqual(1);
    expect(wav.data.length).toBe(162230 * 2);
    expect(wav.data.buffer).toBe(bytes.buffer);
  });

  it('both example files have the same duration', () => {
    const a = readWav(readFileSync(join(EXAMPLES, 'call-ko-8k-mulaw.wav')));
    const b = readWav(readFileSync(join(EXAMPLES, 'call-ko-16k-linear16.wav')));
    expect(a.durationMs).toBeCloseTo(b.durationMs, 6);
  });
});

describe('readWav: generated fixtures', () => {
  it('committed fixtures match the generator (run `npx tsx test/fixtures/make-fixtures.ts`)', () => {
    for (const [name, make] of Object.entries(VALID_FIXTURES)) {
      expect(Buffer.from(fixture(name)).equals(Buffer.from(make())), name).toBe(true);
    }
    for (const [name, make] of Object.entries(INVALID_FIXTURES)) {
      expect(Buffer.from(fixture(`invalid/${name}`)).equals(Buffer.from(make())), name).toBe(true);
    }
  });

  it('fixtures are small', () => {
    for (const name of Object.keys(VALID_FIXTURES)) expect(fixture(name).length).toBeLessThan(100_000);
  });

  it('mu-law with fact, odd-sized LIST (pad byte) and odd-sized data', () => {
    const wav = readWav(fixture('mulaw-8k-fact-list.wav'));
    expect(wav.format).toEqual({ encoding: 'mulaw', sampleRate: 8000, channels: 1 });
    expect(wav.data.length).toBe(1999);
    expect(wav.durationMs).toBe(249.875);
    const src = testSignal(1999);
    expect(Array.from(wav.data)).toEqual(Array.from(encodeMulaw(src)));
    // Decoding gives back the signal within mu-law quantisation.
    const pcm = decodeMulaw(wav.data);
    for (let i = 0; i < src.length; i++) {
      expect(Math.abs(pcm[i]! - src[i]!)).toBeLessThanOrEqual(Math.max(8, Math.abs(src[i]!) / 16));
    }
  });

  it('A-law', () => {
    const wav = readWav(fixture('alaw-8k.wav'));
    expect(wav.format).toEqual({ encoding: 'alaw', sampleRate: 8000, channels: 1 });
    expect(wav.durationMs).toBe(200);
    expect(Array.from(wav.data)).toEqual(Array.from(encodeAlaw(testSignal(1600))));
    expect(decodeAlaw(wav.data).length).toBe(1600);
  });

  it('PCM 16-bit', () => {
    const wav = readWav(fixture('linear16-16k.wav'));
    expect(wav.format).toEqual({ encoding: 'linear16', sampleRate: 16000, channels: 1 });
    expect(wav.durationMs).toBe(200);
    expect(Array.from(bytesAsInt16(wav.data))).toEqual(Array.from(testSignal(3200)));
  });

  it('WAVE_FORMAT_EXTENSIBLE with PCM, float and mu-law sub-formats', () => {
    const pcm = readWav(fixture('linear16-16k-extensible.wav'));
    expect(pcm.format).toEqual({ encoding: 'linear16', sampleRate: 16000, channels: 1 });
    expect(pcm.durationMs).toBe(100);
    expect(Array.from(bytesAsInt16(pcm.data))).toEqual(Array.from(testSignal(1600)));

    const f = readWav(fixture('float32-16k-extensible.wav'));
    expect(f.format).toEqual({ encoding: 'float32', sampleRate: 16000, channels: 1 });
    expect(f.durationMs).toBe(50);

    const mu = readWav(fixture('mulaw-8k-extensible.wav'));
    expect(mu.format).toEqual({ encoding: 'mulaw', sampleRate: 8000, channels: 1 });
    expect(mu.durationMs).toBe(100);
  });

  it('IEEE float 32-bit', () => {
    const wav = readWav(fixture('float32-16k.wav'));
    expect(wav.format).toEqual({ encoding: 'float32', sampleRate: 16000, channels: 1 });
    expect(wav.durationMs).toBe(50);
    const samples = bytesAsFloat32(wav.data);
    const src = testSignal(800);
    expect(samples.length).toBe(800);
    for (let i = 0; i < 800; i++) expect(samples[i]).toBe(src[i]! / 32768);
  });

  it('streamed WAV: data size 0xFFFFFFFF or 0 extends to the end of the file', () => {
    for (const name of ['linear16-8k-streamed.wav', 'linear16-8k-size0.wav']) {
      const wav = readWav(fixture(name));
      expect(wav.format.encoding).toBe('linear16');
      expect(wav.data.length, name).toBe(801 * 2);
      expect(wav.durationMs, name).toBe(100.125);
      expect(Array.from(bytesAsInt16(wav.data))).toEqual(Array.from(testSignal(801)));
    }
  });

  it('streamed WAV with a partial trailing sample drops the partial sample', () => {
    const full = fixture('linear16-8k-streamed.wav');
    const cut = full.subarray(0, full.length - 1);
    const wav = readWav(cut);
    expect(wav.data.length).toBe(800 * 2);
  });

  it('accepts an ArrayBuffer and a Uint8Array at a non-zero offset (returns a view)', () => {
    const file = fixture('linear16-16k.wav');
    const ab = new ArrayBuffer(file.length);
    new Uint8Array(ab).set(file);
    const fromAb = readWav(ab);
    expect(fromAb.data.buffer).toBe(ab);
    expect(fromAb.durationMs).toBe(200);

    const big = new Uint8Array(file.length + 3);
    big.set(file, 3);
    const shifted = big.subarray(3);
    const wav = readWav(shifted);
    expect(wav.data.buffer).toBe(big.buffer);
    expect(wav.data.byteOffset).toBe(3 + 44);
    // Odd offset: bytesAsInt16 copies but still decodes the same samples.
    expect(Array.from(bytesAsInt16(wav.data))).toEqual(Array.from(testSignal(3200)));
  });

  it('a trailing pad byte or junk after the data chunk is ignored', () => {
    const file = fixture('linear16-16k.wav');
    const withJunk = new Uint8Array(file.length + 5);
    withJunk.set(file);
    expect(readWav(withJunk).durationMs).toBe(200);
  });

  it('data without the pad byte at the very end of the file', () => {
    const bytes = riff([
      fmtChunk({ tag: 7, sampleRate: 8000, bits: 8 }),
      { id: 'data', body: new Uint8Array(7).fill(0xff), noPad: true },
    ]);
    expect(readWav(bytes).data.length).toBe(7);
  });
});

describe('readWav: rejects', () => {
  const cases: Array<[string, RegExp]> = [
    ['stereo-linear16.wav', /2 channels; only mono/],
    ['pcm8.wav', /8-bit PCM is not supported/],
    ['pcm24.wav', /24-bit PCM is not supported/],
    ['float64.wav', /64-bit IEEE float is not supported/],
    ['adpcm.wav', /unsupported format tag 0x0002 \(Microsoft ADPCM\)/],
    ['extensible-unknown-guid.wav', /non-standard sub-format GUID/],
    ['truncated-header.wav', /"fmt " chunk declares 16 bytes but only 10 remain \(truncated file\)/],
    ['no-data.wav', /missing data chunk/],
    ['no-fmt.wav', /data chunk comes before the fmt chunk/],
    ['data-truncated.wav', /data chunk declares 640 bytes but only 320 remain/],
  ];
  for (const [name, message] of cases) {
    it(name, () => {
      expectInvalid(fixture(`invalid/${name}`), message);
    });
  }

  it('every invalid fixture has a test case', () => {
    expect(cases.map(([n]) => n).sort()).toEqual(Object.keys(INVALID_FIXTURES).sort());
  });

  it('short or non-RIFF input', () => {
    expectInvalid(new Uint8Array(0), /too short for a RIFF header/);
    expectInvalid(new Uint8Array(11), /too short/);
    expectInvalid(new TextEncoder().encode('OggS\0\0\0\0WAVEfmt '), /missing RIFF signature/);
    expectInvalid(new TextEncoder().encode('RIFF\0\0\0\0AVI LIST'), /not WAVE/);
    expectInvalid(riff([], 'WAVE', 'RIFX'), /RIFX/);
    expectInvalid(riff([], 'WAVE', 'RF64'), /RF64/);
  });

  it('header-only file and cut-off chunk header', () => {
    expectInvalid(riff([]), /missing fmt chunk/);
    const fmtOnly = riff([fmtChunk({ tag: 1, sampleRate: 8000, bits: 16 })]);
    expectInvalid(fmtOnly, /missing data chunk/);
    const cutHeader = new Uint8Array(fmtOnly.length + 5);
    cutHeader.set(fmtOnly);
    cutHeader.set(new TextEncoder().encode('data'), fmtOnly.length);
    expectInvalid(cutHeader, /missing data chunk \(file ends with a truncated chunk header\)/);
  });

  it('fmt chunk too short, bad block align, zero rate, odd data size', () => {
    const short = riff([{ id: 'fmt ', body: new Uint8Array(14) }, factChunk(0)]);
    expectInvalid(short, /fmt chunk is 14 bytes/);
    expectInvalid(
      riff([fmtChunk({ tag: 1, sampleRate: 8000, bits: 16, blockAlign: 4 }), { id: 'data', body: new Uint8Array(8) }]),
      /block align is 4; expected 2/,
    );
    expectInvalid(
      riff([fmtChunk({ tag: 7, sampleRate: 0, bits: 8 }), { id: 'data', body: new Uint8Array(8) }]),
      /sample rate is 0/,
    );
    expectInvalid(
      riff([fmtChunk({ tag: 1, sampleRate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array(7) }]),
      /not a multiple of the block align/,
    );
    expectInvalid(
      riff([fmtChunk({ tag: 0xfffe, sampleRate: 8000, bits: 16 }), { id: 'data', body: new Uint8Array(8) }]),
      /EXTENSIBLE fmt chunk is 16 bytes/,
    );
    expectInvalid(
      riff([fmtChunk({ tag: 1, sampleRate: 8000, bits: 16 }), fmtChunk({ tag: 1, sampleRate: 8000, bits: 16 })]),
      /more than one fmt chunk/,
    );
    expectInvalid(
      riff([
        fmtChunk({ tag: 1, sampleRate: 8000, bits: 16 }),
        listChunk(),
        { id: 'LIST', body: new Uint8Array(4), sizeField: 100 },
      ]),
      /"LIST" chunk declares 100 bytes/,
    );
  });
});
