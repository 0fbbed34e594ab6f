/** The sample call of examples/audio: 8 kHz mu-law audio and its ground truth. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readWav } from '../../src/index.js';

const dir = fileURLToPath(new URL('../../examples/audio/', import.meta.url));

export const truth = JSON.parse(readFileSync(`${dir}call-ko.json`, 'utf8')) as {
  durationMs: number;
  utterances: { text: string; startMs: number; endMs: number }[];
};
export const script = truth.utterances.map((u) => u.text);
/** 8 kHz mu-law samples of the call (one byte per sample). */
export const mulaw8k = readWav(readFileSync(`${dir}call-ko-8k-mulaw.wav`)).data;
/** Twilio Media Streams frame: 20 ms of 8 kHz mu-law. */
export const FRAME_BYTES = 160;
export const FRAME_MS = 20;

/** The seeds' figures (authenticate ~500 ms, new socket ~300 ms, recognition ~400 ms after the end of speech). */
export const SEEDS_LATENCY = { authMs: 500, connectMs: 300, processingMs: 400 } as const;
/** End-point silence of the emulator (RTZR's documented `epd_time` default, 0.5 s). */
export const EPD_MS = 500;
