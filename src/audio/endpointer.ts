/**
 * Energy-based endpointer (voice activity detection with end-of-speech
 * decisions), used by the emulators and by utterance-mode providers.
 *
 * The audio is cut into fixed analysis frames (default 10 ms). A frame is
 * voiced when its RMS level in dBFS reaches the speech threshold: either a
 * fixed {@link EndpointerOptions.thresholdDb} or, by default, an adaptive one
 * (tracked noise floor + 12 dB, never below −50 dBFS). An utterance starts
 * after {@link EndpointerOptions.minSpeechMs} of consecutive voiced frames
 * and ends after {@link EndpointerOptions.silenceMs} of consecutive unvoiced
 * frames (end-point detection, EPD).
 *
 * Frames are carried across {@link Endpointer.push} calls as running sums, so
 * the events do not depend on how the audio is chunked.
 *
 * @module
 */
import { ConfigurationError } from '../errors/index.js';

/** Returned when a push decides nothing: no allocation per call on the hot path. */
const NO_EVENTS: readonly EndpointerEvent[] = Object.freeze([]);

/** Options of an {@link Endpointer}. All durations are in milliseconds. */
export interface EndpointerOptions {
  /** Sample rate, in Hz, of the Int16 samples pushed. Positive integer. */
  sampleRate: number;
  /** Trailing silence, in ms, that ends an utterance (EPD). Default 500. */
  silenceMs?: number;
  /** Consecutive voiced time, in ms, needed to start an utterance. Default 60. */
  minSpeechMs?: number;
  /**
   * Absolute speech threshold in dBFS (e.g. −40). Default: adaptive, the
   * tracked noise floor + 12 dB, never below −50 dBFS.
   */
  thresholdDb?: number;
  /** Analysis frame length, in ms. Default 10. */
  frameMs?: number;
  /** Force-split utterances longer than this, in ms. Default 0 (never split). */
  maxUtteranceMs?: number;
}

/**
 * An endpointer decision. Times are in ms from the first sample pushed
 * (since construction or the last {@link Endpointer.reset}).
 *
 * - `voicestart`: voiced audio started an utterance; `startMs` is the start of its first voiced
 *   frame. Decided once `minSpeechMs` of voiced audio has been seen, so it comes that much later.
 * - `voiceend`: the utterance ended; `startMs` is its `voicestart`'s, `endMs` the end of its last
 *   voiced frame (trailing silence excluded). `reason` is `'silence'` (after `silenceMs` of
 *   silence), `'max-duration'` (forced split at `maxUtteranceMs`) or `'flush'`
 *   ({@link Endpointer.flush}).
 *
 * Each `voiceend` follows its `voicestart`; they alternate, starting with `voicestart`. These are
 * decisions on the audio's energy, not recognition results: the stream's `speechstart`/`speechend`
 * events ({@link streaming-stt!RecognitionStreamEvents}) are about recognised utterances.
 */
export type EndpointerEvent =
  | {
      /** Voiced audio started an utterance. */
      type: 'voicestart';
      /** Start of the utterance's first voiced frame, ms. */
      startMs: number;
    }
  | {
      /** The utterance ended. */
      type: 'voiceend';
      /** Start of the utterance (as in its `voicestart`), ms. */
      startMs: number;
      /** End of the utterance's last voiced frame, ms (trailing silence excluded). */
      endMs: number;
      /** Why it ended: trailing silence, the `maxUtteranceMs` split, or {@link Endpointer.flush}. */
      reason: 'silence' | 'max-duration' | 'flush';
    };

/** Level assigned to digital silence, in dBFS. */
const FLOOR_DB = -100;
/** Adaptive threshold: margin above the noise floor, in dB. */
const ADAPTIVE_MARGIN_DB = 12;
/** Adaptive threshold never goes below this, in dBFS. */
const ADAPTIVE_MIN_DB = -50;
/** Time constant, in ms, of the noise-floor average over unvoiced frames. */
const FLOOR_TIME_CONSTANT_MS = 200;
/** How fast, in dB per second, the floor may creep up during voiced frames. */
const FLOOR_RISE_DB_PER_S = 1;
/** Full-scale energy of one Int16 sample (32768²). */
const FULL_SCALE_SQ = 32768 * 32768;

/** Mean square of Int16 samples to dBFS, clamped at {@link FLOOR_DB}. */
function toDb(meanSq: number): number {
  return meanSq > 0 ? Math.max(FLOOR_DB, 10 * Math.log10(meanSq / FULL_SCALE_SQ)) : FLOOR_DB;
}

function checkNumber(name: string, value: number, min: number, integer = false, allowZero = false): void {
  const ok =
    typeof value === 'number' &&
    Number.isFinite(value) &&
    (allowZero ? value >= min : value > min) &&
    (!integer || Number.isInteger(value));
  if (!ok) {
    throw new ConfigurationError(
      `Endpointer: ${name} must be ${integer ? 'an integer' : 'a number'} ${allowZero ? '>=' : '>'} ${min}, got ${String(value)}`,
    );
  }
}

/**
 * Energy endpointer over 16-bit PCM.
 *
 * @example
 * ```ts
 * const ep = new Endpointer({ sampleRate: 8000, silenceMs: 500 });
 * for (const frame of frames) {
 *   for (const ev of ep.push(frame)) {
 *     if (ev.type === 'voiceend') console.log(`utterance ${ev.startMs}-${ev.endMs} ms`);
 *   }
 * }
 * ep.flush();
 * ```
 */
export class Endpointer {
  private readonly sampleRate: number;
  private readonly frameSamples: number;
  private readonly silenceFrames: number;
  private readonly minSpeechFrames: number;
  private readonly maxUtteranceSamples: number;
  private readonly fixedThresholdDb: number | undefined;
  private readonly floorAlpha: number;
  private readonly floorRisePerFrame: number;

  /** Total samples pushed. */
  private samples = 0;
  /** Running sum of squares and count of the frame being filled. */
  private frameSumSq = 0;
  private frameCount = 0;
  /** Tracked noise floor in dBFS (NaN until the first frame). */
  private floorDb = Number.NaN;

  private speaking = false;
  /** Sample index where the current voiced run (candidate or utterance) started. */
  private runStart = 0;
  /** Consecutive voiced frames before speech start. */
  private voicedRun = 0;
  /** Consecutive unvoiced frames inside an utterance. */
  private silentRun = 0;
  /** Sample index of the end of the last voiced frame of the utterance. */
  private lastVoicedEnd = 0;
  /** After a forced split, the next voiced frame starts an utterance at once. */
  private continuing = false;

  /**
   * @param options - see {@link EndpointerOptions}.
   * @throws {@link ConfigurationError} when an option is out of range (non-positive
   *   `sampleRate`, `frameMs`, `silenceMs`; negative `minSpeechMs` or `maxUtteranceMs`;
   *   non-finite `thresholdDb`).
   */
  constructor(options: EndpointerOptions) {
    if (typeof options !== 'object' || options === null) throw new ConfigurationError('Endpointer: options are required');
    const { sampleRate, silenceMs = 500, minSpeechMs = 60, thresholdDb, frameMs = 10, maxUtteranceMs = 0 } = options;
    checkNumber('sampleRate', sampleRate, 0, true);
    checkNumber('frameMs', frameMs, 0);
    checkNumber('silenceMs', silenceMs, 0);
    checkNumber('minSpeechMs', minSpeechMs, 0, false, true);
    checkNumber('maxUtteranceMs', maxUtteranceMs, 0, false, true);
    if (thresholdDb !== undefined && (typeof thresholdDb !== 'number' || !Number.isFinite(thresholdDb))) {
      throw new ConfigurationError(`Endpointer: thresholdDb must be a finite number (dBFS), got ${String(thresholdDb)}`);
    }
    this.sampleRate = sampleRate;
    this.frameSamples = Math.max(1, Math.round((sampleRate * frameMs) / 1000));
    const realFrameMs = (this.frameSamples * 1000) / sampleRate;
    this.silenceFrames = Math.max(1, Math.ceil(silenceMs / realFrameMs - 1e-9));
    this.minSpeechFrames = Math.max(1, Math.ceil(minSpeechMs / realFrameMs - 1e-9));
    this.maxUtteranceSamples = Math.round((maxUtteranceMs * sampleRate) / 1000);
    this.fixedThresholdDb = thresholdDb;
    this.floorAlpha = Math.min(1, realFrameMs / FLOOR_TIME_CONSTANT_MS);
    this.floorRisePerFrame = (FLOOR_RISE_DB_PER_S * realFrameMs) / 1000;
  }

  /** Milliseconds of audio pushed so far (since construction or {@link reset}). */
  get positionMs(): number {
    return (this.samples * 1000) / this.sampleRate;
  }

  /** Whether an utterance is open (a `voicestart` was emitted and no `voiceend` yet). */
  get inSpeech(): boolean {
    return this.speaking;
  }

  /**
   * Analyse more audio.
   * @param samples - mono 16-bit PCM at `sampleRate`, any length (partial frames are carried over).
   * @returns the events decided by this audio, in order (often empty).
   */
  push(samples: Int16Array): readonly EndpointerEvent[] {
    const events = this.decided;
    const n = samples.length;
    const base = this.samples;
    let sumSq = this.frameSumSq;
    let count = this.frameCount;
    const frameSamples = this.frameSamples;
    for (let i = 0; i < n; i++) {
      const s = samples[i]!;
      sumSq += s * s;
      if (++count === frameSamples) {
        this.endFrame(sumSq / count, base + i + 1, events);
        sumSq = 0;
        count = 0;
      }
    }
    this.samples = base + n;
    this.frameSumSq = sumSq;
    this.frameCount = count;
    if (events.length === 0) return NO_EVENTS;
    const out = events.slice();
    events.length = 0;
    return out;
  }

  /** Scratch for the events of one push (reused; copied out only when something was decided). */
  private readonly decided: EndpointerEvent[] = [];

  /**
   * Close an open utterance now (reason `'flush'`), e.g. at end of stream or
   * when the client asks to finalize. A partial frame still being filled is
   * analysed as a short frame first. Speech that has not yet reached
   * `minSpeechMs` is dropped. The noise floor and position are kept.
   * @returns the `voiceend` event, or an empty array when no utterance was open.
   */
  flush(): EndpointerEvent[] {
    const events: EndpointerEvent[] = [];
    if (this.frameCount > 0) {
      if (this.speaking && this.isVoiced(this.frameSumSq / this.frameCount)) this.lastVoicedEnd = this.samples;
      this.frameSumSq = 0;
      this.frameCount = 0;
    }
    if (this.speaking) events.push(this.closeUtterance('flush'));
    this.voicedRun = 0;
    this.continuing = false;
    return events;
  }

  /** Forget everything: position back to 0, noise floor re-learnt, no open utterance. */
  reset(): void {
    this.samples = 0;
    this.frameSumSq = 0;
    this.frameCount = 0;
    this.floorDb = Number.NaN;
    this.speaking = false;
    this.runStart = 0;
    this.voicedRun = 0;
    this.silentRun = 0;
    this.lastVoicedEnd = 0;
    this.continuing = false;
  }

  private toMs(sample: number): number {
    return Math.round((sample * 1000) / this.sampleRate);
  }

  private isVoiced(meanSq: number): boolean {
    const db = toDb(meanSq);
    return db >= this.threshold(db);
  }

  private threshold(firstDb: number): number {
    if (this.fixedThresholdDb !== undefined) return this.fixedThresholdDb;
    if (Number.isNaN(this.floorDb)) this.floorDb = firstDb;
    return Math.max(this.floorDb + ADAPTIVE_MARGIN_DB, ADAPTIVE_MIN_DB);
  }

  /** Track the noise floor: average over unvoiced frames, slow creep during voiced ones. */
  private updateFloor(db: number, voiced: boolean): void {
    if (this.fixedThresholdDb !== undefined) return;
    if (!voiced || db < this.floorDb) this.floorDb += (db - this.floorDb) * this.floorAlpha;
    else this.floorDb += Math.min(db - this.floorDb, this.floorRisePerFrame);
  }

  private closeUtterance(reason: 'silence' | 'max-duration' | 'flush'): EndpointerEvent {
    this.speaking = false;
    this.silentRun = 0;
    this.voicedRun = 0;
    return { type: 'voiceend', startMs: this.toMs(this.runStart), endMs: this.toMs(this.lastVoicedEnd), reason };
  }

  /** Decide one complete frame that ended at sample index `frameEnd`. */
  private endFrame(meanSq: number, frameEnd: number, events: EndpointerEvent[]): void {
    const db = toDb(meanSq);
    const voiced = db >= this.threshold(db);
    this.updateFloor(db, voiced);
    const frameStart = frameEnd - this.frameSamples;

    if (this.speaking) {
      if (voiced) {
        this.silentRun = 0;
        this.lastVoicedEnd = frameEnd;
      } else if (++this.silentRun >= this.silenceFrames) {
        events.push(this.closeUtterance('silence'));
        return;
      }
      if (this.maxUtteranceSamples > 0 && frameEnd - this.runStart >= this.maxUtteranceSamples) {
        const continuing = voiced;
        events.push(this.closeUtterance('max-duration'));
        this.continuing = continuing;
      }
      return;
    }

    if (!voiced) {
      this.voicedRun = 0;
      this.continuing = false;
      return;
    }
    if (this.voicedRun === 0) this.runStart = frameStart;
    this.voicedRun++;
    if (this.continuing || this.voicedRun >= this.minSpeechFrames) {
      this.continuing = false;
      this.speaking = true;
      this.silentRun = 0;
      this.lastVoicedEnd = frameEnd;
      events.push({ type: 'voicestart', startMs: this.toMs(this.runStart) });
    }
  }
}
