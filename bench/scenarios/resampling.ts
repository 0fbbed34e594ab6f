/**
 * Scenario 5 worker: resampling quality and speed, 8 kHz ↔ 16 kHz (the
 * telephone audio a 16 kHz provider such as Whisper or Google receives).
 *
 * Quality, from tone sweeps (bench/lib/tone-sweep.ts; deterministic):
 * pass-band ripple = the largest |gain| of tones 50–3400 Hz; gain at 3.6 kHz;
 * image rejection (going up) = the worst level of each tone's image at
 * 8000 − f; alias rejection (going down) = the worst level of tones
 * 4.6–7.95 kHz folded to 8000 − f.
 * Speed: the sample call (8 kHz, or its 16 kHz version) in 20 ms Int16 frames
 * through one instance, in audio-seconds per CPU-second (`process.cpuUsage`),
 * best and median of 5 rounds.
 *
 * Compared in the same run: the current `Resampler` at each quality, the 0.1
 * design (bench/baseline-resampler.ts) and Speex's resampler (WASM, portable
 * and SIMD builds) at its VoIP (3) and desktop (5) qualities.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeMulaw, readWav, Resampler } from '../../src/index.js';
import { BaselineResampler } from '../baseline-resampler.js';
import { serve } from '../lib/ipc.js';
import { mulaw8k } from '../lib/sample-call.js';
import { loadSpeex, SpeexResampler } from '../lib/speex.js';
import { round } from '../lib/stats.js';
import { sweep, tones, type SweepSubject } from '../lib/tone-sweep.js';

/** A resampler under test: Int16 frames (speed) and float frames (quality). */
interface Subject {
  process(frame: Int16Array): Int16Array;
  processFloat(frame: Float32Array): Float32Array;
}

interface Impl {
  name: string;
  make(fromRate: number, toRate: number): Subject;
}

export interface ResamplingRow {
  implementation: string;
  direction: '8→16 kHz' | '16→8 kHz';
  /** Largest |gain| of tones 50–3400 Hz, dB. */
  rippleDb: number;
  gain3400Db: number;
  gain3600Db: number;
  /** Worst image (up) or alias (down) level relative to its tone, dB. */
  worstMirrorDb: number;
  audioSecPerCpuSec: number;
  medianAudioSecPerCpuSec: number;
}

const speech8k = decodeMulaw(mulaw8k);
const speech16k = (() => {
  const wav = readWav(readFileSync(fileURLToPath(new URL('../../examples/audio/call-ko-16k-linear16.wav', import.meta.url))));
  return new Int16Array(wav.data.buffer.slice(wav.data.byteOffset, wav.data.byteOffset + wav.data.byteLength));
})();

function ours(quality: 'fast' | 'medium' | 'high'): Impl {
  return {
    name: `streaming-stt '${quality}'${quality === 'medium' ? ' (default)' : ''}`,
    make: (from, to) => {
      const r = new Resampler({ fromRate: from, toRate: to, quality });
      const out = new Int16Array(r.maxOutputLength(from / 50));
      return { process: (f) => r.process(f, out), processFloat: (f) => r.processFloat(f) };
    },
  };
}

async function speex(quality: number, simd: boolean): Promise<Impl> {
  const mod = await loadSpeex(simd);
  const live: SpeexResampler[] = [];
  return {
    name: `Speex q${quality}${quality === 3 ? ' (VoIP)' : quality === 5 ? ' (desktop)' : ''}, WASM${simd ? ' SIMD' : ''}`,
    make: (from, to) => {
      // one state per measurement; freed when the next one is made (WASM memory is not GC'd)
      live.splice(0).forEach((s) => s.destroy());
      const s = new SpeexResampler(mod, from, to, quality);
      live.push(s);
      return s;
    },
  };
}

const baseline: Impl = {
  name: 'streaming-stt 0.1 (baseline)',
  make: (from, to) => {
    const r = new BaselineResampler(from, to);
    const out = new Int16Array(Math.ceil((from / 50) * (to / from)) + 2);
    return { process: (f) => r.process(f, out), processFloat: (f) => r.processFloat(f) };
  },
};

const ROUNDS = 5;

function speed(impl: Impl, from: number, to: number, data: Int16Array, cpuBudgetMs: number): { best: number; median: number } {
  const frame = from / 50;
  const pass = (s: Subject): void => {
    for (let off = 0; off + frame <= data.length; off += frame) s.process(data.subarray(off, off + frame));
  };
  const warm = impl.make(from, to);
  for (let i = 0; i < 10; i++) pass(warm); // JIT
  const rates: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const s = impl.make(from, to);
    const c0 = process.cpuUsage();
    let audioSec = 0;
    let cpuMs = 0;
    while (cpuMs < cpuBudgetMs / ROUNDS) {
      pass(s);
      audioSec += Math.floor(data.length / frame) / 50;
      const c = process.cpuUsage(c0);
      cpuMs = (c.user + c.system) / 1000;
    }
    rates.push(audioSec / (cpuMs / 1000));
  }
  rates.sort((a, b) => a - b);
  return { best: round(rates[ROUNDS - 1]!), median: round(rates[ROUNDS >> 1]!) };
}

function quality(impl: Impl, from: number, to: number): Pick<ResamplingRow, 'rippleDb' | 'gain3400Db' | 'gain3600Db' | 'worstMirrorDb'> {
  const make = (): SweepSubject => {
    const s = impl.make(from, to);
    return { process: (f) => s.processFloat(f) };
  };
  const up = to > from;
  const band = sweep(make, {
    fromRate: from,
    toRate: to,
    passTones: tones(50, 3400, 50),
    mirrorTones: up ? tones(50, 3400, 50) : tones(4600, 7950, 50),
  });
  const edge = sweep(make, { fromRate: from, toRate: to, passTones: [3400, 3600], mirrorTones: [] });
  return {
    rippleDb: round(band.rippleDb, 3),
    gain3400Db: round(edge.gainsDb[0]!.db, 2),
    gain3600Db: round(edge.gainsDb[1]!.db, 2),
    worstMirrorDb: round(band.worstMirrorDb, 1),
  };
}

async function run(cpuBudgetMs: number): Promise<ResamplingRow[]> {
  const impls: Impl[] = [
    baseline,
    ours('fast'),
    ours('medium'),
    ours('high'),
    await speex(3, false),
    await speex(5, false),
    await speex(5, true),
  ];
  const rows: ResamplingRow[] = [];
  for (const [from, to, data, direction] of [
    [8000, 16000, speech8k, '8→16 kHz'],
    [16000, 8000, speech16k, '16→8 kHz'],
  ] as const) {
    for (const impl of impls) {
      const s = speed(impl, from, to, data, cpuBudgetMs);
      rows.push({
        implementation: impl.name,
        direction,
        ...quality(impl, from, to),
        audioSecPerCpuSec: s.best,
        medianAudioSecPerCpuSec: s.median,
      });
    }
  }
  return rows;
}

serve(async (msg) => run(Number((msg.input as { cpuBudgetMs?: number }).cpuBudgetMs ?? 1500)));
