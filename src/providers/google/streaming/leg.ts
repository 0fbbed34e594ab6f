/**
 * One gRPC `StreamingRecognize` call of a session (a "leg"): where its audio
 * starts on the session's timeline, what it has sent, its pacing, and the
 * utterance Google is building on it. A session runs one leg at a time for
 * new audio; legs it half-closed (after `finalize()`, when idle, at `end()`)
 * live on until Google has sent their finals.
 * @module
 * @internal
 */
import type { GrpcCall } from './module.js';
import { RealtimePacer } from './pacer.js';
import { audioRequest } from './requests.js';

/** What a leg reports to its session. */
export interface LegListener {
  onResponse(leg: Leg, message: unknown): void;
  /** The server ended the call with `OK`. */
  onEnd(leg: Leg): void;
  /** The call failed (not after {@link Leg.cancel}). */
  onError(leg: Leg, err: unknown): void;
}

/** @internal */
export class Leg {
  /** Audio bytes written to the call. */
  sentBytes = 0;
  /** Wall time of the last audio written, or of the opening. */
  lastAudioAt: number;
  /** The client half-closed: no more audio; the call ends after the last finals. */
  halfClosed = false;
  /** Ended (OK, error or cancelled). */
  finished = false;
  readonly pacer: RealtimePacer;
  /** Session segment of the utterance Google is building on this leg (set by its first result). */
  segment: number | undefined;
  /** Leg ms where the current utterance started (a voice-activity event), if Google said. */
  speechStartMs: number | undefined;
  /** Leg ms of the end of the last final. */
  lastEndMs = 0;
  private cancelled = false;
  /** ES private: the gax call reaches the client, which holds credentials. */
  readonly #call: GrpcCall;

  constructor(
    readonly id: number,
    call: GrpcCall,
    readonly version: 'v1' | 'v2',
    /** Session byte position of the leg's first audio byte. */
    readonly startBytes: number,
    burstMs: number,
    now: number,
    listener: LegListener,
  ) {
    this.#call = call;
    this.lastAudioAt = now;
    this.pacer = new RealtimePacer(burstMs, now);
    call.on('data', (message: unknown) => {
      if (!this.finished) listener.onResponse(this, message);
    });
    call.on('end', () => {
      if (this.finished) return;
      this.finished = true;
      listener.onEnd(this);
    });
    call.on('error', (err: unknown) => {
      if (this.finished) return;
      this.finished = true;
      if (!this.cancelled) listener.onError(this, err);
    });
  }

  /** Send the first request (the configuration). */
  configure(request: Record<string, unknown>): void {
    this.#call.write(request);
  }

  /** Send audio. */
  write(audio: Uint8Array, now: number): void {
    this.#call.write(audioRequest(this.version, audio));
    this.sentBytes += audio.byteLength;
    this.lastAudioAt = now;
  }

  /** No more audio: Google finishes the utterance, sends its finals and ends the call. */
  halfClose(): void {
    if (this.halfClosed || this.finished) return;
    this.halfClosed = true;
    this.#call.end();
  }

  /** Drop the call now (nothing more is reported). */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.finished = true;
    this.#call.cancel();
  }
}
