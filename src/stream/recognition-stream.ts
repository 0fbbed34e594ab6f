/**
 * `RecognitionStream`: one call or recording. Audio goes out as it is written
 * (re-chunked to the provider's frame size) while results come back
 * concurrently; `partial`/`final` events carry stream-absolute times and
 * latency; `end()` waits (bounded) for the last finals.
 *
 * State machine:
 * ```
 * connecting ──open──▶ open ──end()──▶ ending ──▶ closed
 *     │                  │                │
 *     └──────── error ───┴────────────────┴──▶ failed
 * any state ──abort()──▶ closed
 * ```
 * `close` is always the last event, emitted exactly once.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { AudioConverter, negotiateFormat } from '../audio/converter.js';
import { bytesPerMs, normalizeAudioFormat, type AudioFormat } from '../audio/format.js';
import { AbortError, StateError, type SttError, toSttError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { Provider, ProviderResult, ProviderSession, SessionCosts } from '../providers/provider.js';
import { FrameChunker } from './chunker.js';
import { iterateEvents } from './event-iterator.js';
import { chunkBytes, type AudioChunk } from './input.js';
import type {
  RecognitionEvent,
  RecognitionStreamEvents,
  StreamOptions,
  StreamState,
  StreamSummary,
  Transcript,
  UtteranceMetrics,
} from './types.js';
import { WriteClock } from './write-clock.js';

/** Everything a stream needs from its recognizer. @internal */
export interface StreamInit {
  providers: readonly Provider[];
  options: StreamOptions;
  language: string;
  logger: Logger;
  onClosed?: (stream: RecognitionStream) => void;
}

interface Utterance {
  id: number;
  startMs: number;
  firstPartialAt?: number;
  finalized: boolean;
}

/**
 * A streaming recognition session. Create it with `recognizer.stream()`.
 *
 * Events (see {@link RecognitionStreamEvents}): `open`, `speechstart`, `partial`, `final`,
 * `speechend`, `metrics`, `reconnect`, `fallback`, `error`, `close`, `drain`. Emitting `error`
 * with no listener never throws. Also async-iterable: `for await (const ev of stream)` yields
 * every event but `drain` and throws the `SttError` when the stream fails.
 */
export class RecognitionStream extends EventEmitter<RecognitionStreamEvents> {
  private _state: StreamState = 'connecting';
  private _provider: string;
  private readonly inputFormat: Required<AudioFormat>;
  private readonly inBytesPerMs: number;
  private readonly interimResults: boolean;
  private readonly includeRaw: boolean;
  private readonly endTimeoutMs: number;
  private readonly hwmMs: number;
  private readonly maxQueuedMs: number;
  private readonly language: string;
  private readonly logger: Logger;
  private readonly controller = new AbortController();
  private readonly clock = new WriteClock();
  private readonly providersUsed: string[] = [];

  private session: ProviderSession | undefined;
  private sessionCosts: SessionCosts | undefined;
  private converter!: AudioConverter;
  private chunker!: FrameChunker;
  private wireBytesPerMs = 1;
  /** Frames written before the session opened (bounded by `maxQueuedMs`). */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private inflightBytes = 0;
  private needDrain = false;

  private writtenBytes = 0;
  private readonly segments = new Map<number, Utterance>();
  private nextUtteranceId = 0;
  private utterancesOnSession = 0;
  private readonly finals: Transcript[] = [];
  private endPromise: Promise<StreamSummary> | undefined;
  private resolveEnd: ((s: StreamSummary) => void) | undefined;
  private summary: StreamSummary | undefined;
  private failure: SttError | undefined;
  private readonly onSignalAbort: () => void;

  /** @internal Use `recognizer.stream()`. */
  constructor(private readonly init: StreamInit) {
    super();
    const o = init.options;
    this.inputFormat = normalizeAudioFormat(o.audio);
    this.inBytesPerMs = bytesPerMs(this.inputFormat);
    this.interimResults = o.interimResults ?? true;
    this.includeRaw = o.includeRaw ?? false;
    this.endTimeoutMs = o.endTimeoutMs ?? 5000;
    const hwmBytes = o.highWaterMark ?? Math.round(this.inBytesPerMs * 2000);
    this.hwmMs = hwmBytes / this.inBytesPerMs;
    this.maxQueuedMs = Math.max(this.hwmMs * 4, o.replayWindowMs ?? 30_000);
    this.language = o.language ?? init.language;
    this.logger = init.logger;
    const first = init.providers[0];
    if (!first) throw new StateError('no provider is available for a new stream');
    this._provider = first.id;
    this.onSignalAbort = () => this.abort(o.signal?.reason);
    if (o.signal) {
      if (o.signal.aborted) queueMicrotask(() => this.abort(o.signal?.reason));
      else o.signal.addEventListener('abort', this.onSignalAbort, { once: true });
    }
    this.attach(first);
  }

  /** Lifecycle state. */
  get state(): StreamState {
    return this._state;
  }

  /** Id of the provider serving now. */
  get provider(): string {
    return this._provider;
  }

  /** Audio written so far, ms. */
  get audioMs(): number {
    return this.writtenBytes / this.inBytesPerMs;
  }

  /**
   * Write audio in the stream's input format. Audio written before the connection is open is
   * queued, not lost.
   * @returns false when more than `highWaterMark` is queued; wait for `'drain'` before writing more.
   * @throws {@link AudioFormatError} (`INVALID_AUDIO`) for a non-binary chunk or partial samples
   * (nothing of the chunk is written); {@link StateError} (`INVALID_STATE`) after `end()`/`abort()`
   * or when the queue holds more than `max(4 × highWaterMark, replayWindowMs)` of audio.
   */
  write(chunk: AudioChunk): boolean {
    if (this._state !== 'connecting' && this._state !== 'open') {
      throw new StateError(`write() after the stream ${this._state === 'ending' ? 'was ended' : 'closed'} (state ${this._state})`);
    }
    const bytes = chunkBytes(chunk, this.inputFormat.encoding);
    if (bytes.byteLength === 0) return !this.needDrain;
    if (this.queuedMs() > this.maxQueuedMs) {
      throw new StateError(
        `write queue is full (${Math.round(this.queuedMs())} ms of audio queued); wait for 'drain' when write() returns false`,
      );
    }
    this.writtenBytes += bytes.byteLength;
    this.clock.record(this.audioMs, performance.now());
    const wire = this.converter.convert(bytes);
    if (wire.byteLength > 0) this.chunker.push(wire, this.sendFrame);
    const ok = this.queuedMs() < this.hwmMs;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** The caller's VAD says the turn ended: finish the current utterance now (RTZR `Finalize`). */
  finalize(): void {
    if (this._state !== 'connecting' && this._state !== 'open') return;
    const rest = this.chunker.flush();
    if (rest) this.sendFrame(rest);
    if (this.session) this.session.finalize();
    else this.pending.push(FINALIZE);
  }

  /**
   * Flush, signal end of audio, wait for the last finals (at most `endTimeoutMs` after the
   * connection is open), close. Resolves with the summary; never rejects: a failure is in
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
    const tail = this.converter.flush();
    if (tail.byteLength > 0) this.chunker.push(tail, this.sendFrame);
    const rest = this.chunker.flush();
    if (rest) this.sendFrame(rest);
    if (this.session) void this.finishSession(this.session);
    return this.endPromise;
  }

  /** Stop now: close the connection, no more events but `close`. `summary.error` is an {@link AbortError}. */
  abort(reason?: unknown): void {
    if (this.summary) return;
    const message = reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : 'stream aborted';
    this.controller.abort();
    this.session?.abort();
    this.finish('closed', new AbortError(message, { provider: this._provider }));
  }

  /**
   * Write everything from `source` honouring backpressure, then `end()`.
   * @param source - an async iterable (a Node Readable) or a web `ReadableStream` of audio chunks.
   */
  async pipeFrom(source: AsyncIterable<AudioChunk> | ReadableStream<AudioChunk>): Promise<StreamSummary> {
    const iterable: AsyncIterable<AudioChunk> =
      Symbol.asyncIterator in source
        ? (source as AsyncIterable<AudioChunk>)
        : readableToIterable(source as ReadableStream<AudioChunk>);
    for await (const chunk of iterable) {
      if (this._state !== 'connecting' && this._state !== 'open') break;
      if (!this.write(chunk)) await this.waitDrain();
    }
    return this.end();
  }

  /** Yields events until `close` (inclusive); throws the `SttError` if the stream fails. */
  [Symbol.asyncIterator](): AsyncIterableIterator<RecognitionEvent> {
    return iterateEvents(this, () => this.summary);
  }

  // ───────────────────────────── internals ─────────────────────────────

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.off('drain', done);
        this.off('close', done);
        resolve();
      };
      this.once('drain', done);
      this.once('close', done);
    });
  }

  private queuedMs(): number {
    const bytes = this.pendingBytes + this.inflightBytes + this.chunker.pending;
    return bytes / this.wireBytesPerMs;
  }

  private readonly sendFrame = (frame: Uint8Array): void => {
    if (this.session) {
      this.inflightBytes += frame.byteLength;
      this.session.send(frame, () => {
        this.inflightBytes -= frame.byteLength;
        this.maybeDrain();
      });
    } else {
      this.pending.push(frame);
      this.pendingBytes += frame.byteLength;
    }
  };

  private maybeDrain(): void {
    if (this.needDrain && this.queuedMs() < this.hwmMs && (this._state === 'open' || this._state === 'connecting')) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private attach(provider: Provider): void {
    const wire = negotiateFormat(this.inputFormat, provider.capabilities);
    this.converter = new AudioConverter(this.inputFormat, wire);
    this.wireBytesPerMs = bytesPerMs(wire);
    const chunkMs = provider.chunkMs ?? 100;
    const sampleBytes = wire.encoding === 'linear16' ? 2 : wire.encoding === 'float32' ? 4 : 1;
    const samples = Math.max(1, Math.round((wire.sampleRate * chunkMs) / 1000));
    this.chunker = new FrameChunker(samples * sampleBytes);
    this.providersUsed.push(provider.id);
    provider
      .connect({
        format: wire,
        language: this.language,
        interimResults: this.interimResults,
        includeRaw: this.includeRaw,
        signal: this.controller.signal,
        logger: this.logger,
        onResult: (r) => this.onResult(provider.id, r),
        onError: (e) => this.fail(e),
      })
      .then(
        (session) => this.onOpen(provider.id, session),
        (err: unknown) => this.fail(toSttError(err, provider.id)),
      );
  }

  private onOpen(providerId: string, session: ProviderSession): void {
    if (this.summary) {
      session.abort();
      return;
    }
    this.session = session;
    this.sessionCosts = session.costs;
    this.utterancesOnSession = 0;
    if (this._state === 'connecting') this._state = 'open';
    this.emit('open', { provider: providerId });
    const queued = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const frame of queued) {
      if (frame === FINALIZE) session.finalize();
      else this.sendFrame(frame);
    }
    this.maybeDrain();
    if (this._state === 'ending') void this.finishSession(session);
  }

  private async finishSession(session: ProviderSession): Promise<void> {
    await session.end(this.endTimeoutMs);
    if (!this.summary) this.finish('closed');
  }

  private onResult(providerId: string, r: ProviderResult): void {
    if (this.summary) return;
    let utt = this.segments.get(r.segment);
    if (utt?.finalized) return;
    const now = performance.now();
    if (!utt) {
      if (r.type === 'partial' && r.text === '') return;
      if (r.type === 'final' && r.text === '') return;
      utt = { id: this.nextUtteranceId++, startMs: r.startMs, finalized: false };
      this.segments.set(r.segment, utt);
      this.emit('speechstart', { utteranceId: utt.id, startMs: r.startMs });
    }
    const t: Transcript = {
      type: r.type,
      text: r.text,
      utteranceId: utt.id,
      startMs: r.startMs,
      endMs: r.endMs,
      provider: providerId,
    };
    if (r.confidence !== undefined) t.confidence = r.confidence;
    if (r.words) t.words = r.words;
    t.language = r.language ?? this.language;
    if (this.includeRaw && r.raw !== undefined) t.raw = r.raw;

    if (r.type === 'partial') {
      if (utt.firstPartialAt === undefined) utt.firstPartialAt = now;
      if (this.interimResults) this.emit('partial', t);
      return;
    }
    utt.finalized = true;
    const endWritten = this.clock.writtenAt(r.endMs) ?? now;
    t.latencyMs = Math.max(0, Math.round(now - endWritten));
    this.finals.push(t);
    this.emit('final', t);
    this.emit('speechend', { utteranceId: utt.id, endMs: r.endMs });
    this.emit('metrics', this.metricsFor(utt, t, providerId));
    this.pruneSegments();
  }

  private metricsFor(utt: Utterance, t: Transcript, providerId: string): UtteranceMetrics {
    const costs = this.sessionCosts ?? { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false };
    const first = this.utterancesOnSession++ === 0;
    const m: UtteranceMetrics = {
      utteranceId: utt.id,
      provider: providerId,
      audioMs: Math.max(0, Math.round(t.endMs - t.startMs)),
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

  /** Keep the segment map bounded: forget finalized segments older than the last 64. */
  private pruneSegments(): void {
    if (this.segments.size <= 64) return;
    for (const [k, u] of this.segments) {
      if (this.segments.size <= 64) break;
      if (u.finalized) this.segments.delete(k);
    }
  }

  private fail(error: SttError): void {
    if (this.summary) return;
    this.failure = error;
    this.logger.warn('stream failed', { provider: error.provider ?? this._provider, code: error.code, message: error.message });
    this.controller.abort();
    this.session?.abort();
    this._state = 'failed';
    this.emit('error', error);
    this.finish('failed', error);
  }

  private finish(state: 'closed' | 'failed', error?: SttError): void {
    if (this.summary) return;
    this._state = state;
    this.pending = [];
    this.pendingBytes = 0;
    this.init.options.signal?.removeEventListener('abort', this.onSignalAbort);
    const summary: StreamSummary = {
      transcripts: this.finals.slice(),
      text: this.finals
        .map((f) => f.text)
        .filter((x) => x !== '')
        .join(' '),
      audioMs: Math.round(this.audioMs),
      providers: this.providersUsed.slice(),
      reconnects: 0,
      fallbacks: 0,
    };
    const err = error ?? this.failure;
    if (err) summary.error = err;
    this.summary = summary;
    this.init.onClosed?.(this);
    this.emit('close', summary);
    this.resolveEnd?.(summary);
    this.removeAllListeners();
  }
}

/** Marker queued by `finalize()` before the connection is open. */
const FINALIZE = new Uint8Array(0);

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
