/**
 * What `write()` lets into a stream (spec §2, "Rules for write()"): whole samples only (a partial
 * sample is carried over to the next chunk), never more unsent audio than the replay window
 * holds, nothing after the stream ended. Whatever is not let in is counted (`droppedMs`) and said
 * once: a log line for writes after the end, a `warning` for audio over the window.
 * @module
 */
import type { Logger } from '../logger.js';
import { SampleCarry } from './sample-carry.js';
import type { StreamWarning } from './types.js';

/** @internal */
export interface IntakeInit {
  /** Bytes per sample of the input encoding (1, 2 or 4). */
  sampleBytes: number;
  /** Input bytes per ms of audio. */
  bytesPerMs: number;
  /** The replay window, input bytes: at most this much audio may wait unsent. */
  windowBytes: number;
  logger: Logger;
  /** Audio over the window was dropped. */
  onWarning(warning: StreamWarning): void;
}

/** @internal */
export class AudioIntake {
  private readonly carry: SampleCarry;
  private droppedBytes = 0;
  private refusedLogged = false;
  /** A write overflowed and none has been accepted whole since (one warning per episode). */
  private overflowing = false;

  constructor(private readonly o: IntakeInit) {
    this.carry = new SampleCarry(o.sampleBytes);
  }

  /** Audio written but never sent, ms (microsecond precision). */
  get droppedMs(): number {
    return Math.round((this.droppedBytes / this.o.bytesPerMs) * 1000) / 1000;
  }

  /**
   * The part of `input` the stream takes: whole samples (completing a carried partial one), cut
   * to `room` bytes (the window minus the audio no connection has sent yet).
   * @returns the bytes to keep (possibly empty) and whether some were dropped for lack of room.
   */
  admit(input: Uint8Array, room: number): { bytes: Uint8Array; over: boolean } {
    const bytes = this.carry.push(input);
    if (bytes.byteLength <= room) {
      if (bytes.byteLength > 0) this.overflowing = false;
      return { bytes, over: false };
    }
    this.overWindow(bytes.byteLength - room, input.byteLength);
    return { bytes: bytes.subarray(0, room), over: true };
  }

  /** A write after the stream ended: count it, log once. */
  refuse(bytes: number, state: string): void {
    this.droppedBytes += bytes;
    if (this.refusedLogged) return;
    this.refusedLogged = true;
    this.o.logger.info('stream: write() after the stream ended; the audio is dropped (counted in droppedMs)', {
      state,
      droppedMs: this.droppedMs,
    });
  }

  /** The stream ends: a partial sample still carried can never be completed. */
  dropPartial(): void {
    this.droppedBytes += this.carry.drop();
  }

  /** Part of a write did not fit: count it, and warn once per episode (and for every chunk bigger than the window). */
  private overWindow(dropped: number, chunkBytes: number): void {
    this.droppedBytes += dropped;
    const { windowBytes, bytesPerMs } = this.o;
    const huge = chunkBytes > windowBytes;
    if (this.overflowing && !huge) return;
    this.overflowing = true;
    const ms = (b: number): number => Math.round(b / bytesPerMs);
    const windowMs = ms(windowBytes);
    const message = huge
      ? `write() of ${ms(chunkBytes)} ms of audio (${chunkBytes} bytes) is more than the stream can keep ` +
        `(replayWindowMs ${windowMs} ms of audio not yet sent); the last ${ms(dropped)} ms of the chunk were dropped. ` +
        'Write audio as it arrives, in chunks of at most a few seconds, or use pipeFrom().'
      : `the stream already holds replayWindowMs (${windowMs} ms) of audio it could not send yet ` +
        `(the provider connection is down or slower than real time); ${ms(dropped)} ms of new audio were dropped, ` +
        'and more will be until it catches up (see droppedMs).';
    const warning: StreamWarning = { code: 'AUDIO_OVER_WINDOW', message, droppedMs: Math.round((dropped / bytesPerMs) * 1000) / 1000 };
    this.o.logger.warn('stream: audio dropped', { code: warning.code, droppedMs: warning.droppedMs });
    this.o.onWarning(warning);
  }
}
