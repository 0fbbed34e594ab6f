/**
 * `--finalize-on-silence`: the library's energy `Endpointer` run on the audio
 * as it is written; when it decides an utterance ended, the stream's
 * `finalize()` ends it at once instead of waiting for the provider's own
 * endpointing.
 * @module
 */
import { Endpointer } from '../audio/endpointer.js';
import type { AudioFormat } from '../audio/format.js';
import { decodeAlaw, decodeMulaw } from '../audio/g711.js';
import { bytesAsFloat32, bytesAsInt16, float32ToPcm16 } from '../audio/pcm.js';

/** Calls `onEnd` whenever the energy endpointer decides an utterance ended after `silenceMs` of silence. */
export class SilenceFinalizer {
  private readonly endpointer: Endpointer;

  constructor(
    private readonly format: Required<AudioFormat>,
    silenceMs: number,
    /** Called with the end of the utterance (ms of audio) when it is decided. */
    private readonly onEnd: (endMs: number) => void,
  ) {
    this.endpointer = new Endpointer({ sampleRate: format.sampleRate, silenceMs });
  }

  /** Feed the next frame (whole samples of the input format). */
  push(frame: Uint8Array): void {
    for (const ev of this.endpointer.push(this.pcm(frame))) if (ev.type === 'voiceend') this.onEnd(ev.endMs);
  }

  private pcm(frame: Uint8Array): Int16Array {
    switch (this.format.encoding) {
      case 'mulaw':
        return decodeMulaw(frame);
      case 'alaw':
        return decodeAlaw(frame);
      case 'float32':
        return float32ToPcm16(bytesAsFloat32(frame));
      default:
        return bytesAsInt16(frame);
    }
  }
}
