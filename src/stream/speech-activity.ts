/**
 * Is the caller speaking right now? An energy endpointer over the input audio,
 * used to tell a stalled provider (speech going out, nothing coming back) from
 * a quiet line (nothing to say). It also remembers where the recent speech
 * was (a small ring of segments), so audio sent later — a replay after a
 * reconnect — can be checked for speech too.
 * @module
 */
import { Endpointer } from '../audio/endpointer.js';
import type { AudioFormat } from '../audio/format.js';
import { decodeAlaw, decodeMulaw } from '../audio/g711.js';
import { bytesAsFloat32, bytesAsInt16, float32ToPcm16 } from '../audio/pcm.js';

/** Speech segments remembered (older ones are forgotten: a query about them answers "no speech"). */
const SEGMENTS = 64;

/** @internal */
export class SpeechActivity {
  private readonly endpointer: Endpointer;
  private scratch = new Int16Array(0);
  /** Ring of segment starts/ends, stream ms; an open segment ends at +Infinity. */
  private readonly starts = new Float64Array(SEGMENTS);
  private readonly ends = new Float64Array(SEGMENTS);
  private count = 0;
  private head = 0;

  constructor(private readonly format: Required<AudioFormat>) {
    this.endpointer = new Endpointer({ sampleRate: format.sampleRate, silenceMs: 300 });
  }

  /** Stream ms of the latest speech heard (0 before any). */
  lastSpeechMs = 0;

  /** Whether the audio pushed last is speech (the endpointer is inside a speech segment). */
  get speaking(): boolean {
    return this.endpointer.inSpeech;
  }

  /** Feed input bytes (whole samples); true while speech is going on. */
  push(bytes: Uint8Array): boolean {
    for (const ev of this.endpointer.push(this.pcm(bytes))) {
      if (ev.type === 'voicestart') this.open(ev.startMs);
      else {
        this.lastSpeechMs = ev.endMs;
        this.close(ev.endMs);
      }
    }
    if (this.endpointer.inSpeech) this.lastSpeechMs = this.endpointer.positionMs;
    return this.endpointer.inSpeech;
  }

  /** Whether speech was heard anywhere in [fromMs, toMs) of the stream. */
  speechBetween(fromMs: number, toMs: number): boolean {
    for (let k = this.count - 1; k >= 0; k--) {
      const i = (this.head + k) % SEGMENTS;
      if (this.ends[i]! <= fromMs) return false; // this one and every older one end before the range
      if (this.starts[i]! < toMs) return true;
    }
    return false;
  }

  private open(startMs: number): void {
    const i = (this.head + this.count) % SEGMENTS;
    this.starts[i] = startMs;
    this.ends[i] = Number.POSITIVE_INFINITY;
    if (this.count < SEGMENTS) this.count++;
    else this.head = (this.head + 1) % SEGMENTS;
  }

  private close(endMs: number): void {
    if (this.count > 0) this.ends[(this.head + this.count - 1) % SEGMENTS] = endMs;
  }

  private pcm(bytes: Uint8Array): Int16Array {
    switch (this.format.encoding) {
      case 'linear16':
        return bytesAsInt16(bytes);
      case 'float32':
        return float32ToPcm16(bytesAsFloat32(bytes), this.buffer(bytes.byteLength / 4));
      case 'mulaw':
        return decodeMulaw(bytes, this.buffer(bytes.byteLength));
      case 'alaw':
        return decodeAlaw(bytes, this.buffer(bytes.byteLength));
    }
  }

  private buffer(samples: number): Int16Array {
    if (this.scratch.length < samples) this.scratch = new Int16Array(Math.max(samples, 1024));
    return this.scratch;
  }
}
