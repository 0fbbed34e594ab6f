/**
 * Is the caller speaking right now? An energy endpointer over the input audio,
 * used to tell a stalled provider (speech going out, nothing coming back) from
 * a quiet line (nothing to say).
 * @module
 */
import { Endpointer } from '../audio/endpointer.js';
import type { AudioFormat } from '../audio/format.js';
import { decodeAlaw, decodeMulaw } from '../audio/g711.js';
import { bytesAsFloat32, bytesAsInt16, float32ToPcm16 } from '../audio/pcm.js';

/** @internal */
export class SpeechActivity {
  private readonly endpointer: Endpointer;
  private scratch = new Int16Array(0);

  constructor(private readonly format: Required<AudioFormat>) {
    this.endpointer = new Endpointer({ sampleRate: format.sampleRate, silenceMs: 300 });
  }

  /** Stream ms of the latest speech heard (0 before any). */
  lastSpeechMs = 0;

  /** Feed input bytes (whole samples); true while speech is going on. */
  push(bytes: Uint8Array): boolean {
    for (const ev of this.endpointer.push(this.pcm(bytes))) {
      if (ev.type === 'speechend') this.lastSpeechMs = ev.endMs;
    }
    if (this.endpointer.inSpeech) this.lastSpeechMs = this.endpointer.positionMs;
    return this.endpointer.inSpeech;
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
