/**
 * `RecognitionStream`: one call or recording. Audio goes out as it is written
 * (re-chunked to the provider's frame size) while results come back
 * concurrently; `partial`/`final` events carry stream-absolute times and
 * latency; `end()` waits (bounded) for the last finals.
 *
 * No words lost: every byte written is kept in a bounded replay buffer until a
 * final covers it. When the connection drops the stream reconnects (same
 * provider, backoff with full jitter) and replays that audio; when the
 * provider is unusable it switches to the next provider and replays it there.
 * Utterance ids keep counting, times stay stream-absolute, a final is never
 * delivered twice, results of an abandoned connection are ignored.
 *
 * State machine:
 * ```
 * connecting ──open──▶ open ──end()──▶ ending ──▶ closed
 *   ▲   │                │                │
 *   │   └─── reconnect / fallback ◀───────┘ (stays ending)
 *   └──────────────────┘
 * any state ── unrecoverable error ──▶ failed      any state ──abort()──▶ closed
 * ```
 * `close` is always the last event, emitted exactly once.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { inspect, type InspectOptionsStylized } from 'node:util';
import pRetry from 'p-retry';
import { bytesPerMs, bytesPerSample, normalizeAudioFormat, type AudioFormat } from '../audio/format.js';
import {
  AbortError,
  AllProvidersFailedError,
  AudioFormatError,
  StateError,
  TimeoutError,
  type SttError,
  isSttError,
  toSttError,
} from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { Provider, ProviderResult, ProviderSession } from '../providers/provider.js';
import { iterateEvents } from './event-iterator.js';
import { chunkBytes, type AudioChunk } from './input.js';
import { Link, type Utterance } from './link.js';
import { resolveStreamOptions } from './options.js';
import { backoffDelay, reconnectable, type ResolvedReliability } from './reliability.js';
import { ReplayBuffer } from './replay-buffer.js';
import { SampleCarry } from './sample-carry.js';
import { SpeechActivity } from './speech-activity.js';
import type {
  RecognitionEvent,
  RecognitionStreamEvents,
  StreamOptions,
  StreamState,
  StreamSummary,
  StreamWarning,
  Transcript,
  UtteranceMetrics,
} from './types.js';
import { WriteClock } from './write-clock.js';
import { inspectView } from '../inspection.js';

/**
 * Everything a stream needs from its recognizer: the argument of the `RecognitionStream`
 * constructor. Not a stable API; create streams with `recognizer.stream()`.
 */
export interface StreamInit {
  /** Providers to use, in the order to try them (available ones first). */
  providers: readonly Provider[];
  options: StreamOptions;
  language: string;
  logger: Logger;
  reliability: ResolvedReliability;
  /** A provider failed in a way that should take it out of rotation (fallback trigger). */
  onProviderFailed?: (provider: Provider, error: SttError) => void;
  onClosed?: (stream: RecognitionStream) => void;
}

const PACE_TICK_MS = 50;
const MAX_FINALIZE_MARKS = 256;

/**
 * A streaming recognition session. Create it with `recognizer.stream()`.
 *
 * Events (see {@link RecognitionStreamEvents}): `open`, `speechstart`, `partial`, `final`,
 * `speechend`, `metrics`, `reconnect`, `fallback`, `error`, `close`, `drain`. Emitting `error`
 * with no listener never throws. Also async-iterable: `for await (const ev of stream)` yields
 * every event but `drain` and `error`, and throws the `SttError` when the stream fails.
 */
export class RecognitionStream extends EventEmitter<RecognitionStreamEvents> {
  private _state: StreamState = 'connecting';
  private readonly inputFormat: Required<AudioFormat>;
  private readonly inBytesPerMs: number;
  private readonly sampleBytes: number;
  private readonly interimResults: boolean;
  private readonly includeRaw: boolean;
  private readonly endTimeoutMs: number;
  private readonly hwmMs: number;
  private readonly language: string;
  private readonly logger: Logger;
  private readonly rel: ResolvedReliability;
  private readonly clock = new WriteClock();
  private readonly replay: ReplayBuffer;
  private readonly carry: SampleCarry;
  private readonly activity: SpeechActivity;
  private readonly providersUsed: string[] = [];
  private readonly failedProviders = new Set<string>();
  private readonly errors: SttError[] = [];

  private link!: Link;
  private pacer: NodeJS.Timeout | undefined;
  private stallTimer: NodeJS.Timeout | undefined;
  private finalizeMarks: number[] = [];
  private needDrain = false;
  /** Input byte position where end() was called. */
  private endAt: number | undefined;
  /** Audio written but never sent (see `StreamSummary.droppedMs`), input bytes. */
  private droppedBytes = 0;
  private refusedLogged = false;
  /** A write overflowed and none has been accepted whole since (one warning per episode). */
  private overflowing = false;

  private nextUtteranceId = 0;
  /** The newest utterance that has no final yet. */
  private openUtterance: Utterance | undefined;
  /** After a failure: the next link's first utterance continues this one. */
  private adopt: Utterance | undefined;
  /** Stream ms up to which finals have been delivered. */
  private committedMs = 0;
  private reconnects = 0;
  private fallbacks = 0;
  private budgetUsed = 0;
  private lastOpenAt = 0;
  private readonly finals: Transcript[] = [];
  private endPromise: Promise<StreamSummary> | undefined;
  private resolveEnd: ((s: StreamSummary) => void) | undefined;
  private summary: StreamSummary | undefined;
  private readonly lifetime = new AbortController();
  private readonly onSignalAbort: () => void;

  /** @internal Use `recognizer.stream()`. */
  constructor(private readonly init: StreamInit) {
    super();
    const o = init.options;
    const checked = resolveStreamOptions(o, init.reliability.replayWindowMs);
    this.inputFormat = normalizeAudioFormat(o.audio);
    this.inBytesPerMs = bytesPerMs(this.inputFormat);
    this.sampleBytes = bytesPerSample(this.inputFormat.encoding);
    this.interimResults = checked.interimResults;
    this.includeRaw = checked.includeRaw;
    this.endTimeoutMs = checked.endTimeoutMs;
    this.rel = init.reliability;
    this.replay = new ReplayBuffer(Math.round(checked.replayWindowMs * this.inBytesPerMs), this.sampleBytes);
    this.carry = new SampleCarry(this.sampleBytes);
    const hwmBytes = Math.min(checked.highWaterMark ?? Math.round(this.inBytesPerMs * 2000), this.replay.windowBytes);
    this.hwmMs = hwmBytes / this.inBytesPerMs;
    this.language = o.language ?? init.language;
    this.logger = init.logger;
    this.activity = new SpeechActivity(this.inputFormat);
    const first = init.providers[0];
    if (!first) throw new StateError('no provider is available for a new stream');
    this.onSignalAbort = () => this.abort(o.signal?.reason);
    if (o.signal) {
      if (o.signal.aborted) queueMicrotask(() => this.abort(o.signal?.reason));
      else o.signal.addEventListener('abort', this.onSignalAbort, { once: true });
    }
    void this.startLink(first, undefined);
  }

  /** Lifecycle state. */
  get state(): StreamState {
    return this._state;
  }

  /** Id of the provider serving now. */
  get provider(): string {
    return this.link.provider.id;
  }

  /** Audio written so far, ms. */
  get audioMs(): number {
    return this.replay.end / this.inBytesPerMs;
  }

  /** Audio kept for replay (not yet covered by a final), ms. Never more than `replayWindowMs`. */
  get replayBufferedMs(): number {
    return this.replay.size / this.inBytesPerMs;
  }

  /** Audio written but never sent so far, ms (see `StreamSummary.droppedMs`). */
  get droppedMs(): number {
    return Math.round((this.droppedBytes / this.inBytesPerMs) * 1000) / 1000;
  }

  /**
   * Write audio in the stream's input format. Audio written before the connection is open, or
   * while it is being re-established, is queued, not lost. Chunks need not fall on sample
   * boundaries: a partial sample is carried over to the next chunk.
   *
   * Never throws because of the stream's state: after `end()`, `abort()`, the `signal` or a failure
   * the chunk is dropped, counted in `droppedMs` and `false` is returned (an audio source cannot know
   * the exact moment a stream ended). A chunk bigger than what the stream can keep unsent
   * (`replayWindowMs`) is accepted up to that; the rest is dropped, counted, announced by a
   * `warning` event (`AUDIO_OVER_WINDOW`), and `false` is returned.
   * @returns false when more than `highWaterMark` is queued (wait for `'drain'` before writing
   * more), when audio was dropped, and after the stream ended.
   * @throws {@link AudioFormatError} (`INVALID_AUDIO`) only for a chunk that can never be audio: not
   * binary, or a typed array that does not match the encoding (nothing of it is kept).
   */
  write(chunk: AudioChunk): boolean {
    const input = chunkBytes(chunk, this.inputFormat.encoding);
    if (this._state !== 'connecting' && this._state !== 'open') return this.refuse(input.byteLength);
    let bytes = this.carry.push(input);
    if (bytes.byteLength === 0) return !this.needDrain;
    const room = this.roomBytes();
    const over = bytes.byteLength > room;
    if (over) {
      this.overWindow(bytes.byteLength - room, input.byteLength);
      bytes = bytes.subarray(0, room);
    } else this.overflowing = false;
    if (bytes.byteLength > 0) {
      const caughtUp = this.link.session !== undefined && this.pacer === undefined && this.link.sent === this.replay.end;
      this.replay.append(bytes);
      this.clock.record(this.audioMs, performance.now());
      const speaking = this.activity.push(bytes);
      if (caughtUp) {
        this.link.sendInput(bytes, this.onDrained);
        if (speaking) this.watchStall();
      } else this.pump();
    }
    const ok = !over && this.queuedMs() < this.hwmMs;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** A write after the stream ended: drop it, count it, log once. */
  private refuse(bytes: number): boolean {
    this.droppedBytes += bytes;
    if (this.summary) this.summary.droppedMs = this.droppedMs;
    if (!this.refusedLogged) {
      this.refusedLogged = true;
      this.logger.info('stream: write() after the stream ended; the audio is dropped (counted in droppedMs)', {
        state: this._state,
        droppedMs: this.droppedMs,
      });
    }
    return false;
  }

  /** Input bytes the stream can still take without overwriting audio that no connection has sent. */
  private roomBytes(): number {
    const link = this.link;
    const unsentFrom = link.retired ? this.replay.start : Math.max(link.sent, this.replay.start);
    return Math.max(0, this.replay.windowBytes - (this.replay.end - unsentFrom));
  }

  /** Part of a write did not fit: count it, and warn once per episode (and for every chunk bigger than the window). */
  private overWindow(dropped: number, chunkBytes: number): void {
    this.droppedBytes += dropped;
    const huge = chunkBytes > this.replay.windowBytes;
    if (this.overflowing && !huge) return;
    this.overflowing = true;
    const ms = (b: number): number => Math.round(b / this.inBytesPerMs);
    const windowMs = ms(this.replay.windowBytes);
    const message = huge
      ? `write() of ${ms(chunkBytes)} ms of audio (${chunkBytes} bytes) is more than the stream can keep ` +
        `(replayWindowMs ${windowMs} ms of audio not yet sent); the last ${ms(dropped)} ms of the chunk were dropped. ` +
        'Write audio as it arrives, in chunks of at most a few seconds, or use pipeFrom().'
      : `the stream already holds replayWindowMs (${windowMs} ms) of audio it could not send yet ` +
        `(the provider connection is down or slower than real time); ${ms(dropped)} ms of new audio were dropped, ` +
        'and more will be until it catches up (see droppedMs).';
    const warning: StreamWarning = { code: 'AUDIO_OVER_WINDOW', message, droppedMs: Math.round((dropped / this.inBytesPerMs) * 1000) / 1000 };
    this.logger.warn('stream: audio dropped', { code: warning.code, droppedMs: warning.droppedMs });
    this.emit('warning', warning);
  }

  /** The caller's VAD says the turn ended: finish the current utterance now (RTZR `Finalize`). */
  finalize(): void {
    if (this._state !== 'connecting' && this._state !== 'open') return;
    const at = this.replay.end;
    this.finalizeMarks.push(at);
    if (this.finalizeMarks.length > MAX_FINALIZE_MARKS) this.finalizeMarks.shift();
    if (this.link.session && this.link.sent === at) this.applyFinalize(this.link);
  }

  /**
   * Flush, signal end of audio, wait for the last finals (at most `endTimeoutMs` once the
   * provider has all the audio), close. Resolves with the summary; never rejects: a failure is in
   * `summary.error`.
   */
  end(): Promise<StreamSummary> {
    if (this.endPromise) return this.endPromise;
    this.endPromise = new Promise<StreamSummary>((resolve) => (this.resolveEnd = resolve));
    if (this.summary) {
      this.resolveEnd?.(this.summary);
      return this.endPromise;
    }
    this._state = 'ending';
    this.droppedBytes += this.carry.drop(); // a partial sample left at the end can never be completed
    this.endAt = this.replay.end;
    this.pump();
    return this.endPromise;
  }

  /** Stop now: close the connection, no more events but `close`. `summary.error` is an {@link AbortError}. */
  abort(reason?: unknown): void {
    if (this.summary) return;
    const message = reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : 'stream aborted';
    this.finish('closed', new AbortError(message, { provider: this.link.provider.id }));
  }

  /**
   * Write everything from `source` honouring backpressure, then `end()`. Stops writing (and ends)
   * when the stream closes early. If the source throws or yields a chunk that can never be audio,
   * the stream is aborted and the promise rejects with that error.
   * @param source - an async iterable (a Node `Readable`), a web `ReadableStream`, or a sync
   * iterable (an array, a generator) of audio chunks.
   */
  async pipeFrom(
    source: AsyncIterable<AudioChunk> | ReadableStream<AudioChunk> | Iterable<AudioChunk>,
  ): Promise<StreamSummary> {
    try {
      for await (const chunk of toAsyncIterable(source)) {
        if (this._state !== 'connecting' && this._state !== 'open') break;
        if (!this.write(chunk)) await this.waitDrain();
      }
    } catch (err) {
      this.abort(err);
      throw err;
    }
    return this.end();
  }

  /**
   * `await using stream = recognizer.stream(…)`: like Node's streams, disposing a stream that is
   * still running aborts it (no more events but `close`); call `end()` first to get the last
   * finals. Resolves once the stream is closed. A closed stream is left as it is.
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.summary) this.abort(new AbortError('stream disposed before it ended'));
  }

  /** What `util.inspect()` / `console.log()` show: the stream's state and counters, never credentials. */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('RecognitionStream', this.toJSON(), depth, options, inspectFn);
  }

  /** What `JSON.stringify()` (and loggers that serialise objects) show: state and counters only. */
  toJSON(): Record<string, unknown> {
    return {
      state: this._state,
      provider: this.link?.provider.id,
      providers: this.providersUsed.slice(),
      audio: { ...this.inputFormat },
      audioMs: Math.round(this.audioMs),
      droppedMs: this.droppedMs,
      replayBufferedMs: Math.round(this.replayBufferedMs),
      finals: this.finals.length,
      reconnects: this.reconnects,
      fallbacks: this.fallbacks,
    };
  }

  /** Yields events until `close` (inclusive); throws the `SttError` if the stream fails. */
  [Symbol.asyncIterator](): AsyncIterableIterator<RecognitionEvent> {
    return iterateEvents(this, () => this.summary);
  }

  // ─────────────────────────── connections ───────────────────────────

  /**
   * Serve the stream from `provider`: connect (with the reconnect budget for dropped/refused
   * connections), then replay from the last final. Falls back to the next provider when the
   * budget runs out or the failure says the provider is unusable.
   */
  private async startLink(provider: Provider, reason: SttError | undefined): Promise<void> {
    if (this.summary) return;
    const policy = this.rel.reconnect;
    if (this.lastOpenAt > 0 && performance.now() - this.lastOpenAt >= (policy ? policy.resetAfterMs : 0)) {
      this.budgetUsed = 0;
    }
    if (this.providersUsed.at(-1) !== provider.id) this.providersUsed.push(provider.id);
    let lastError = reason;
    let attempt = 0;
    const retries = policy ? Math.max(0, policy.retries - this.budgetUsed) : 0;
    if (reason && retries === 0) {
      this.fallbackFrom(provider, reason);
      return;
    }
    try {
      await pRetry(
        async () => {
          if (lastError) {
            attempt++;
            this.budgetUsed++;
            const delayMs = policy ? backoffDelay(attempt, policy) : 0;
            this.reconnects++;
            this.emit('reconnect', { provider: provider.id, attempt, delayMs, reason: lastError });
            this.logger.info('stream: reconnecting', { provider: provider.id, attempt, delayMs, code: lastError.code });
            await sleep(delayMs, this.lifetime.signal);
          }
          await this.connect(provider);
        },
        {
          retries: reason ? retries - 1 : retries,
          minTimeout: 0,
          maxTimeout: 0,
          signal: this.lifetime.signal,
          shouldRetry: ({ error }) => !this.summary && isSttError(error) && reconnectable(error),
          onFailedAttempt: ({ error }) => {
            lastError = toSttError(error, provider.id);
          },
        },
      );
    } catch (err) {
      if (this.summary) return;
      this.fallbackFrom(provider, toSttError(err, provider.id));
    }
  }

  /** One connect attempt, bounded by `attemptTimeoutMs`. Resolves once the link is open. */
  private async connect(provider: Provider): Promise<void> {
    const link = new Link(provider, this.replay.start, this.inputFormat);
    this.link = link;
    if (this._state === 'open') this._state = 'connecting';
    const timeoutMs = this.rel.attemptTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    let session: ProviderSession;
    try {
      session = await new Promise<ProviderSession>((resolve, reject) => {
        let timedOut = false;
        if (timeoutMs > 0) {
          timer = setTimeout(() => {
            timedOut = true;
            link.controller.abort();
            reject(new TimeoutError(`connecting to ${provider.id} took longer than ${timeoutMs} ms`, { provider: provider.id }));
          }, timeoutMs);
        }
        provider
          .connect({
            format: link.wire,
            language: this.language,
            interimResults: this.interimResults,
            includeRaw: this.includeRaw,
            signal: link.controller.signal,
            logger: this.logger,
            onResult: (r) => this.onResult(link, r),
            onError: (e) => this.onLinkError(link, e),
          })
          .then(
            (opened) => (timedOut ? opened.abort() : resolve(opened)),
            (err: unknown) => reject(toSttError(err, provider.id)),
          );
      });
    } finally {
      clearTimeout(timer);
    }
    if (this.summary || link !== this.link || link.controller.signal.aborted) {
      session.abort();
      if (this.summary) throw new AbortError('stream closed', { provider: provider.id });
      return;
    }
    link.session = session;
    link.costs = session.costs;
    const burst = Math.round(this.rel.replayBurstMs * this.inBytesPerMs);
    link.burstLeft = burst - (burst % this.sampleBytes);
    this.lastOpenAt = performance.now();
    if (this._state === 'connecting') this._state = 'open';
    this.emit('open', { provider: provider.id });
    this.pump();
  }

  /** The current link failed: reconnect, fall back, or fail. */
  private onLinkError(link: Link, error: SttError): void {
    if (this.summary || link.retired || link !== this.link || !link.session) return; // connect failures go through startLink
    this.logger.warn('stream: provider connection failed', { provider: link.provider.id, code: error.code, message: error.message });
    this.retire(link);
    if (this.rel.reconnect && reconnectable(error)) void this.startLink(link.provider, error);
    else this.fallbackFrom(link.provider, error);
  }

  /** Abandon a link: close it, stop its timers, remember the utterance it left open. */
  private retire(link: Link): void {
    link.abort();
    this.stopPacer();
    this.clearStall();
    if (this.openUtterance && !this.openUtterance.finalized) this.adopt = this.openUtterance;
  }

  private fallbackFrom(provider: Provider, error: SttError): void {
    if (this.summary) return;
    this.errors.push(error);
    this.failedProviders.add(provider.id);
    this.init.onProviderFailed?.(provider, error);
    const next = this.rel.fallback ? this.init.providers.find((p) => !this.failedProviders.has(p.id)) : undefined;
    if (!next) {
      const all = this.init.providers.length > 1 && this.rel.fallback;
      this.fail(all ? new AllProvidersFailedError(this.errors) : error);
      return;
    }
    this.fallbacks++;
    const replayedMs = Math.round(this.replay.size / this.inBytesPerMs);
    this.logger.warn('stream: falling back', { from: provider.id, to: next.id, code: error.code, replayedMs });
    this.emit('fallback', { from: provider.id, to: next.id, reason: error, replayedMs });
    this.budgetUsed = 0;
    void this.startLink(next, undefined);
  }

  // ─────────────────────────── sending ───────────────────────────

  /** Send what the current link has not sent yet: a burst, then paced; then finalize/end markers. */
  private pump(): void {
    const link = this.link;
    if (this.summary || !link.session || link.ending) return;
    this.stopPacer();
    const backlog = this.replay.end - link.sent;
    if (backlog > 0) {
      const now = Math.min(backlog, Math.max(link.burstLeft, 0));
      if (now > 0) {
        link.burstLeft -= now;
        this.sendRange(link, link.sent + now);
      }
      if (this.replay.end > link.sent) {
        this.pacer = setTimeout(() => {
          this.pacer = undefined;
          const step = Math.round(PACE_TICK_MS * this.rel.replaySpeed * this.inBytesPerMs);
          link.burstLeft = step - (step % this.sampleBytes);
          this.pump();
        }, PACE_TICK_MS);
        return;
      }
    }
    this.maybeDrain();
    if (this.endAt !== undefined && link.sent >= this.endAt) {
      link.ending = true;
      this.clearStall();
      link.flushAll(this.onDrained);
      void link.session.end(this.endTimeoutMs).then((outcome) => {
        if (this.summary || link.retired) return;
        if (outcome === 'timeout' && this.unfinishedSpeech()) {
          // The provider went quiet with speech still not final: treat it as a stall, recover elsewhere.
          this.onLinkError(
            link,
            new TimeoutError(`${link.provider.id} did not deliver the last finals within ${this.endTimeoutMs} ms of the end of audio`, {
              provider: link.provider.id,
            }),
          );
          return;
        }
        this.finish('closed');
      });
    }
  }

  /** Send replay audio from `link.sent` up to `to`, applying finalize marks on the way. */
  private sendRange(link: Link, to: number): void {
    const { from, chunks } = this.replay.read(link.sent, to);
    if (from > link.sent) {
      link.lostBytes += from - link.sent;
      this.logger.warn('stream: audio older than replayWindowMs was dropped before it could be sent', {
        provider: link.provider.id,
        lostMs: Math.round((from - link.sent) / this.inBytesPerMs),
      });
      link.sent = from;
    }
    for (const chunk of chunks) {
      let c = chunk;
      while (c.byteLength > 0) {
        const mark = this.finalizeMarks.find((m) => m > link.sent && m <= link.sent + c.byteLength);
        const n = mark === undefined ? c.byteLength : mark - link.sent;
        link.sendInput(c.subarray(0, n), this.onDrained);
        c = c.subarray(n);
        if (mark !== undefined) this.applyFinalize(link);
      }
    }
  }

  private applyFinalize(link: Link): void {
    link.flushFrame(this.onDrained);
    link.session?.finalize();
  }

  private stopPacer(): void {
    if (this.pacer) clearTimeout(this.pacer);
    this.pacer = undefined;
  }

  private readonly onDrained = (): void => this.maybeDrain();

  private queuedMs(): number {
    const unsent = (this.replay.end - Math.max(this.link.sent, this.replay.start)) / this.inBytesPerMs;
    return unsent + this.link.pendingWireBytes / this.link.wireBytesPerMs;
  }

  private maybeDrain(): void {
    if (this.needDrain && this.queuedMs() < this.hwmMs && (this._state === 'open' || this._state === 'connecting')) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      if (this.summary || !this.needDrain) {
        resolve();
        return;
      }
      const done = (): void => {
        this.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.once('drain', done);
      this.once('close', done);
    });
  }

  // ─────────────────────────── stall detection ───────────────────────────

  /** Speech is going out on a streaming provider: expect a result within `stallTimeoutMs`. */
  private watchStall(): void {
    const caps = this.link.provider.capabilities;
    if (this.rel.stallTimeoutMs <= 0 || this.stallTimer || !caps.streaming || !caps.interimResults || this.link.ending) return;
    const link = this.link;
    const ms = this.rel.stallTimeoutMs;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = undefined;
      this.onLinkError(
        link,
        new TimeoutError(`${link.provider.id} sent no result for ${ms} ms while speech was being sent (stalled)`, {
          provider: link.provider.id,
        }),
      );
    }, ms);
  }

  /** Speech was heard after the last final (an utterance is open, or the energy endpointer heard more). */
  private unfinishedSpeech(): boolean {
    if (this.openUtterance && !this.openUtterance.finalized) return true;
    return this.activity.lastSpeechMs > this.committedMs + 300;
  }

  private clearStall(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
  }

  // ─────────────────────────── results ───────────────────────────

  private onResult(link: Link, r: ProviderResult): void {
    if (this.summary || link.retired || link !== this.link) return; // late results of an abandoned connection
    this.clearStall();
    const offsetMs = link.offset / this.inBytesPerMs;
    const startMs = Math.round(r.startMs + offsetMs);
    const endMs = Math.round(r.endMs + offsetMs);
    let utt = link.segments.get(r.segment);
    if (utt?.finalized) return;
    if (!utt) {
      if (r.text === '' || endMs <= this.committedMs) return; // nothing new: empty, or audio already final
      if (this.adopt) {
        utt = this.adopt; // the utterance the failed connection left open continues here
        this.adopt = undefined;
      } else {
        utt = { id: this.nextUtteranceId++, startMs, finalized: false };
        this.emit('speechstart', { utteranceId: utt.id, startMs });
      }
      link.segments.set(r.segment, utt);
      this.openUtterance = utt;
      if (link.segments.size > 64) pruneFinalized(link.segments);
    }
    const now = performance.now();
    const t: Transcript = { type: r.type, text: r.text, utteranceId: utt.id, startMs, endMs, provider: link.provider.id };
    if (r.confidence !== undefined) t.confidence = r.confidence;
    if (r.words) t.words = r.words.map((w) => ({ ...w, startMs: Math.round(w.startMs + offsetMs), endMs: Math.round(w.endMs + offsetMs) }));
    t.language = r.language ?? this.language;
    if (this.includeRaw && r.raw !== undefined) t.raw = r.raw;

    if (r.type === 'partial') {
      utt.firstPartialAt ??= now;
      if (this.interimResults) this.emit('partial', t);
      return;
    }
    utt.finalized = true;
    if (this.openUtterance === utt) this.openUtterance = undefined;
    t.latencyMs = Math.max(0, Math.round(now - (this.clock.writtenAt(endMs) ?? now)));
    this.committedMs = Math.max(this.committedMs, endMs);
    this.replay.commit(Math.round(endMs * this.inBytesPerMs));
    this.finalizeMarks = this.finalizeMarks.filter((m) => m > this.replay.start);
    this.finals.push(t);
    this.emit('final', t);
    this.emit('speechend', { utteranceId: utt.id, endMs });
    this.emit('metrics', this.metricsFor(link, utt, t));
  }

  private metricsFor(link: Link, utt: Utterance, t: Transcript): UtteranceMetrics {
    const costs = link.costs ?? { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false };
    const first = link.finals++ === 0;
    const m: UtteranceMetrics = {
      utteranceId: utt.id,
      provider: link.provider.id,
      audioMs: Math.max(0, t.endMs - t.startMs),
      tokenMs: first ? costs.tokenMs : 0,
      tokenCached: first ? costs.tokenCached : true,
      connectMs: first ? costs.connectMs : 0,
      connectionReused: !first,
      prewarmed: costs.prewarmed,
      finalLatencyMs: t.latencyMs ?? 0,
    };
    if (utt.firstPartialAt !== undefined) {
      const startWritten = this.clock.writtenAt(utt.startMs);
      if (startWritten !== undefined) m.firstPartialMs = Math.max(0, Math.round(utt.firstPartialAt - startWritten));
    }
    return m;
  }

  // ─────────────────────────── closing ───────────────────────────

  private fail(error: SttError): void {
    if (this.summary) return;
    this.logger.warn('stream failed', { provider: error.provider ?? this.link.provider.id, code: error.code, message: error.message });
    this._state = 'failed';
    this.emit('error', error);
    this.finish('failed', error);
  }

  private finish(state: 'closed' | 'failed', error?: SttError): void {
    if (this.summary) return;
    this._state = state;
    this.droppedBytes += this.carry.drop();
    this.lifetime.abort();
    this.link.abort();
    this.stopPacer();
    this.clearStall();
    this.replay.clear();
    this.init.options.signal?.removeEventListener('abort', this.onSignalAbort);
    const summary: StreamSummary = {
      transcripts: this.finals.slice(),
      text: this.finals
        .map((f) => f.text)
        .filter((x) => x !== '')
        .join(' '),
      audioMs: Math.round(this.audioMs),
      droppedMs: this.droppedMs,
      providers: this.providersUsed.slice(),
      reconnects: this.reconnects,
      fallbacks: this.fallbacks,
    };
    if (error) summary.error = error;
    this.summary = summary;
    this.init.onClosed?.(this);
    this.emit('close', summary);
    this.resolveEnd?.(summary);
    this.removeAllListeners();
  }
}

function pruneFinalized(segments: Map<number, Utterance>): void {
  for (const [k, u] of segments) {
    if (segments.size <= 64) break;
    if (u.finalized) segments.delete(k);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new AbortError('stream closed'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function toAsyncIterable<T>(source: AsyncIterable<T> | ReadableStream<T> | Iterable<T>): AsyncIterable<T> | Iterable<T> {
  if (typeof source !== 'object' || source === null) {
    throw new AudioFormatError(`pipeFrom() takes an iterable or a ReadableStream of audio chunks, got ${source === null ? 'null' : typeof source}`);
  }
  if (ArrayBuffer.isView(source) || source instanceof ArrayBuffer) {
    throw new AudioFormatError('pipeFrom() takes an iterable of audio chunks, not one chunk: pass [bytes], or use write()');
  }
  if (Symbol.asyncIterator in source || Symbol.iterator in source) return source as AsyncIterable<T> | Iterable<T>;
  if (typeof (source as ReadableStream<T>).getReader === 'function') return readableToIterable(source as ReadableStream<T>);
  throw new AudioFormatError('pipeFrom() takes an async iterable, a sync iterable or a ReadableStream of audio chunks');
}

async function* readableToIterable<T>(stream: ReadableStream<T>): AsyncIterable<T> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
