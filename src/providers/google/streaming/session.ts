/**
 * Streaming-mode Google session: one stream's audio over gRPC
 * `StreamingRecognize`, possibly over several gRPC calls ("legs") in turn,
 * with every result placed on the session's own timeline.
 *
 * - Pacing: audio handed to `send()` is queued (bounded by `maxQueuedMs`) and
 *   leaves through each leg's {@link RealtimePacer}: a burst, then real time.
 *   `onSent` runs when audio leaves the queue, so the stream's backpressure
 *   follows Google's pace.
 * - Messages: at most {@link MAX_AUDIO_BYTES} of audio each.
 * - `finalize()`: the current leg is half-closed (Google finishes the
 *   utterance and sends its final at once) and the next leg is opened ahead.
 * - Idle: a leg without audio for `idleMs` is half-closed before Google's
 *   ~10 s "Audio Timeout"; the next audio opens a new leg.
 * - `end()`: the last leg is half-closed; resolves once every leg ended.
 * @module
 * @internal
 */
import { bytesPerMs, bytesPerSample, type AudioFormat } from '../../../audio/format.js';
import { ConnectionError, ProviderError, type SttError } from '../../../errors/index.js';
import type { Logger } from '../../../logger.js';
import type { EndOutcome, ProviderResult, ProviderSession, SessionCosts } from '../../provider.js';
import { streamError } from './errors.js';
import { Leg, type LegListener } from './leg.js';
import type { SpeechClientLike } from './module.js';
import { MAX_AUDIO_BYTES } from './requests.js';
import { readResponse, type StreamResponse } from './responses.js';

/** @internal */
export interface StreamingSessionInit {
  provider: string;
  version: 'v1' | 'v2';
  client: SpeechClientLike;
  /** The first request of every leg (configuration). */
  config: Record<string, unknown>;
  format: Required<AudioFormat>;
  costs: SessionCosts;
  burstMs: number;
  idleMs: number;
  maxQueuedMs: number;
  includeRaw: boolean;
  logger: Logger;
  onResult(result: ProviderResult): void;
  onError(error: SttError): void;
  /** Wall clock, ms. Default `performance.now`. */
  now?: () => number;
}

type Item = { kind: 'audio'; bytes: Uint8Array; onSent: (() => void) | undefined } | { kind: 'finalize' } | { kind: 'end' };

/** @internal */
export class GoogleStreamingSession implements ProviderSession, LegListener {
  readonly costs: SessionCosts;
  /** ES private: the client holds credentials (not for util.inspect()). */
  readonly #client: SpeechClientLike;
  private readonly init: Omit<StreamingSessionInit, 'client'>;
  private readonly bpm: number;
  private readonly chunkBytes: number;
  private readonly now: () => number;
  private readonly queue: Item[] = [];
  private queuedBytes = 0;
  /** Session bytes written to legs. */
  private position = 0;
  private current: Leg | undefined;
  private readonly legs = new Set<Leg>();
  private nextLegId = 1;
  private nextSegment = 0;
  private paceTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private endTimeoutMs = 0;
  private endResolve: ((outcome: EndOutcome) => void) | undefined;
  private endPromise: Promise<EndOutcome> | undefined;
  /** The end marker was reached: waiting for the legs to end. */
  private draining = false;
  private closed = false;

  constructor({ client, ...init }: StreamingSessionInit) {
    this.#client = client;
    this.init = init;
    this.costs = init.costs;
    this.bpm = bytesPerMs(init.format);
    const sample = bytesPerSample(init.format.encoding);
    // At most 25 KB, and at most half the burst so a chunk never waits for a bucket it cannot fit in.
    const byBurst = Math.max(sample, Math.floor((init.burstMs / 2) * this.bpm));
    this.chunkBytes = Math.min(MAX_AUDIO_BYTES, byBurst - (byBurst % sample));
    this.now = init.now ?? (() => performance.now());
  }

  /** Audio accepted and not yet written to gRPC, bytes. */
  get bufferedAmount(): number {
    return this.queuedBytes;
  }

  send(audio: Uint8Array, onSent?: () => void): void {
    if (this.closed || this.endPromise) {
      onSent?.();
      return;
    }
    if ((this.queuedBytes + audio.byteLength) / this.bpm > this.init.maxQueuedMs) {
      onSent?.();
      this.fail(
        new ProviderError(
          `more than maxQueuedMs (${this.init.maxQueuedMs} ms) of audio is waiting to be sent to Google at real time`,
          { provider: this.init.provider, retryable: true },
        ),
      );
      return;
    }
    for (let off = 0; off < audio.byteLength; off += this.chunkBytes) {
      const bytes = audio.subarray(off, Math.min(off + this.chunkBytes, audio.byteLength));
      const last = off + this.chunkBytes >= audio.byteLength;
      this.queue.push({ kind: 'audio', bytes, onSent: last ? onSent : undefined });
      this.queuedBytes += bytes.byteLength;
    }
    this.pump();
  }

  finalize(): void {
    if (this.closed || this.endPromise) return;
    this.queue.push({ kind: 'finalize' });
    this.pump();
  }

  end(timeoutMs: number): Promise<EndOutcome> {
    if (this.endPromise) return this.endPromise;
    if (this.closed) return Promise.resolve('closed');
    this.endTimeoutMs = timeoutMs;
    this.endPromise = new Promise<EndOutcome>((resolve) => (this.endResolve = resolve));
    this.queue.push({ kind: 'end' });
    this.pump();
    return this.endPromise;
  }

  abort(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of [this.paceTimer, this.idleTimer, this.endTimer]) if (t) clearTimeout(t);
    this.paceTimer = this.idleTimer = this.endTimer = undefined;
    for (const leg of this.legs) leg.cancel();
    this.legs.clear();
    this.current = undefined;
    const pending = this.queue.splice(0);
    this.queuedBytes = 0;
    for (const item of pending) if (item.kind === 'audio') item.onSent?.();
    this.endResolve?.('closed');
  }

  // ─────────────────────────── sending ───────────────────────────

  /** Move queued items to gRPC: audio as the pacer allows, then the finalize/end markers in order. */
  private pump(): void {
    if (this.closed) return;
    if (this.paceTimer) clearTimeout(this.paceTimer);
    this.paceTimer = undefined;
    while (this.queue.length > 0 && !this.closed) {
      const item = this.queue[0]!;
      if (item.kind === 'finalize') {
        this.queue.shift();
        this.cut('finalize');
        continue;
      }
      if (item.kind === 'end') {
        this.queue.shift();
        this.cut('end');
        this.drain();
        continue;
      }
      const leg = this.current ?? this.openLeg();
      if (!leg) return;
      const now = this.now();
      const wait = leg.pacer.take(item.bytes.byteLength / this.bpm, now);
      if (wait > 0) {
        this.paceTimer = setTimeout(() => this.pump(), Math.max(1, Math.ceil(wait)));
        return;
      }
      this.queue.shift();
      this.queuedBytes -= item.bytes.byteLength;
      leg.write(item.bytes, now);
      this.position += item.bytes.byteLength;
      item.onSent?.();
    }
    this.armIdle();
  }

  /** Open a leg for the audio from the current position and send its configuration. */
  private openLeg(): Leg | undefined {
    let leg: Leg;
    try {
      const call = this.#client._streamingRecognize();
      leg = new Leg(this.nextLegId++, call, this.init.version, this.position, this.init.burstMs, this.now(), this);
      leg.configure(this.init.config);
    } catch (err) {
      this.fail(streamError(this.init.provider, err));
      return undefined;
    }
    this.legs.add(leg);
    this.current = leg;
    this.init.logger.debug('google: gRPC stream opened', { provider: this.init.provider, leg: leg.id, atMs: Math.round(this.position / this.bpm) });
    return leg;
  }

  /**
   * Stop sending to the current leg. `finalize`: half-close it (Google finalizes the utterance now)
   * and open the next leg ahead, so the next audio goes out without waiting. `idle`/`end`: half-close.
   */
  private cut(reason: 'finalize' | 'idle' | 'end'): void {
    const leg = this.current;
    if (!leg) return;
    if (reason === 'finalize' && leg.sentBytes === 0) return; // nothing to finalize
    this.current = undefined;
    leg.halfClose();
    this.init.logger.debug('google: gRPC stream half-closed', { provider: this.init.provider, leg: leg.id, reason });
    if (reason === 'finalize') this.openLeg();
  }

  /** Half-close a leg that got no audio for `idleMs` (before Google's audio timeout). */
  private armIdle(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const leg = this.current;
    if (!leg || this.queue.length > 0 || this.closed) return;
    const due = leg.lastAudioAt + this.init.idleMs - this.now();
    this.idleTimer = setTimeout(
      () => {
        this.idleTimer = undefined;
        if (this.current !== leg || this.queue.length > 0) return;
        if (this.now() - leg.lastAudioAt >= this.init.idleMs - 1) this.cut('idle');
        else this.armIdle();
      },
      Math.max(1, Math.ceil(due)),
    );
  }

  /** `end()`: the last leg is half-closed; wait (bounded) for every leg to end. */
  private drain(): void {
    this.draining = true;
    this.endTimer = setTimeout(() => {
      this.endTimer = undefined;
      this.init.logger.warn('google: finals still missing at end(); giving up on them', {
        provider: this.init.provider,
        timeoutMs: this.endTimeoutMs,
      });
      this.endResolve?.('timeout');
      this.abort();
    }, this.endTimeoutMs);
    this.checkDrained();
  }

  private checkDrained(): void {
    if (!this.draining || this.legs.size > 0 || this.closed) return;
    this.endResolve?.('closed');
    this.abort();
  }

  // ─────────────────────────── results ───────────────────────────

  onResponse(leg: Leg, message: unknown): void {
    if (this.closed) return;
    const response = readResponse(this.init.version, message);
    if (response.error) {
      this.fail(streamError(this.init.provider, { code: response.error.code, details: response.error.message }));
      return;
    }
    this.deliver(leg, response, message);
  }

  onEnd(leg: Leg): void {
    this.legs.delete(leg);
    if (this.closed) return;
    if (!leg.halfClosed) {
      // Google ended a stream we were still sending to: audio may be lost; recover by replay.
      this.fail(new ConnectionError('CONNECTION_LOST', 'Google ended the StreamingRecognize stream before the client did', { provider: this.init.provider }));
      return;
    }
    this.init.logger.debug('google: gRPC stream ended', { provider: this.init.provider, leg: leg.id });
    this.checkDrained();
  }

  onError(leg: Leg, err: unknown): void {
    this.legs.delete(leg);
    if (this.closed) return;
    this.fail(streamError(this.init.provider, err));
  }

  /**
   * Turn one response into results on the session timeline. Interim results of a response (Google
   * splits a hypothesis into a stable part and a volatile tail) are joined into one partial; each
   * final closes the leg's current utterance.
   */
  private deliver(leg: Leg, response: StreamResponse, message: unknown): void {
    const offsetMs = leg.startBytes / this.bpm;
    if (response.event?.type === 'SPEECH_ACTIVITY_BEGIN') leg.speechStartMs = response.event.atMs;
    const interim = [];
    for (const r of response.results) {
      if (!r.isFinal) {
        interim.push(r);
        continue;
      }
      const text = r.text.trim();
      const segment = leg.segment;
      leg.segment = undefined;
      const startMs = r.words[0]?.startMs ?? leg.speechStartMs ?? leg.lastEndMs;
      const endMs = Math.max(startMs, r.words.at(-1)?.endMs ?? r.endMs);
      leg.lastEndMs = Math.max(leg.lastEndMs, r.endMs, endMs);
      leg.speechStartMs = undefined;
      if (text === '' && segment === undefined) continue;
      const result: ProviderResult = {
        type: 'final',
        segment: segment ?? this.nextSegment++,
        text,
        startMs: startMs + offsetMs,
        endMs: endMs + offsetMs,
        words: r.words.map((w) => {
          const word = { text: w.text, startMs: w.startMs + offsetMs, endMs: w.endMs + offsetMs };
          return w.confidence === undefined ? word : { ...word, confidence: w.confidence };
        }),
      };
      if (r.confidence !== undefined) result.confidence = r.confidence;
      if (r.language !== undefined) result.language = r.language;
      if (this.init.includeRaw) result.raw = message;
      this.init.onResult(result);
      if (this.closed) return;
    }
    const text = interim
      .map((r) => r.text)
      .join('')
      .trim();
    if (text === '') return;
    leg.segment ??= this.nextSegment++;
    const startMs = Math.min(leg.speechStartMs ?? leg.lastEndMs, ...interim.map((r) => r.endMs));
    const result: ProviderResult = {
      type: 'partial',
      segment: leg.segment,
      text,
      startMs: startMs + offsetMs,
      endMs: Math.max(...interim.map((r) => r.endMs)) + offsetMs,
    };
    if (interim[0]?.language !== undefined) result.language = interim[0].language;
    if (this.init.includeRaw) result.raw = message;
    this.init.onResult(result);
  }

  private fail(error: SttError): void {
    if (this.closed) return;
    this.abort();
    this.init.onError(error);
  }
}
