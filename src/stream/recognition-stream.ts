/**
 * `RecognitionStream`: one call or recording. Audio goes out as it is written
 * (re-chunked to the provider's frame size) while results come back
 * concurrently; `partial`/`final` events carry stream-absolute times and
 * latency; `end()` waits (bounded) for the last finals.
 *
 * No words lost: every byte written is kept in a bounded replay buffer until a
 * final covers it. Connections are the {@link Supervisor}'s business
 * (connect, retry with backoff, fall back, give up); whenever it opens a new
 * one, the stream replays into it the audio not yet final. Utterance ids keep
 * counting, times stay stream-absolute, a final is never delivered twice,
 * results of an abandoned connection are ignored. The stream itself detects
 * stalls (no result for speech sent, {@link StallWatch}) and finals missing
 * after the end of audio, and reports them to the supervisor as failures.
 *
 * Handover (spec §9): the supervisor may also move the stream to a connection
 * it opened ahead (`reconfigure()`, rotation, switch-back); the stream tells it
 * when it is at an utterance boundary and, at the switch, replays into the new
 * connection the audio after the last final (less the silence of a long pause).
 *
 * State machine (every change goes through `transition()` and emits `state`):
 * ```
 * connecting ──opened──▶ open ──end()──▶ ending ──last finals──▶ closed
 *   ▲   │                  │                │ (a failure while ending is recovered; stays ending)
 *   │   └── end() ─────────┼──────────────▶ │
 *   └──── connection lost ─┘
 * any state ── gave up (spec §8) ──▶ failed      any state ──abort()──▶ closed
 * ```
 * `close` is always the last event, emitted exactly once.
 * @module
 */
import { EventEmitter } from 'eventemitter3';
import { inspect, type InspectOptionsStylized } from 'node:util';
import { bytesPerMs, bytesPerSample, normalizeAudioFormat, type AudioFormat } from '../audio/format.js';
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- AudioFormatError: for {@link} in TSDoc
import { AbortError, type AudioFormatError, StateError, TimeoutError, type SttError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { Provider, ProviderResult } from '../providers/provider.js';
import { initialSettings, reconfigured, sameSettings, type ConnectSettings } from './connect-settings.js';
import { iterateEvents } from './event-iterator.js';
import { chunkBytes, toAsyncIterable, type AudioChunk } from './input.js';
import type { Link } from './link.js';
import { resolveStreamOptions } from './options.js';
import { DEFAULT_STALL_TIMEOUT_MS, type ResolvedReliability } from './reliability.js';
import { ReplayBuffer } from './replay-buffer.js';
import { AudioIntake } from './intake.js';
import { SpeechActivity } from './speech-activity.js';
import { StallWatch, type Stall } from './stall-watch.js';
import { Supervisor, type SupervisorListener } from './supervisor.js';
import type {
  HandoverReason,
  RecognitionEvent,
  RecognitionStreamEvents,
  ReconfigureOptions,
  StreamOptions,
  StreamState,
  StreamSummary,
} from './types.js';
import { UtteranceLedger } from './utterances.js';
import { WriteClock } from './write-clock.js';
import { inspectView } from '../inspection.js';

/**
 * Everything a stream needs from its recognizer: the argument of the `RecognitionStream`
 * constructor. Not a stable API; create streams with `recognizer.stream()`.
 * @internal
 */
export interface StreamInit {
  /** Providers to use, in the order to try them (available ones first). */
  providers: readonly Provider[];
  options: StreamOptions;
  language: string;
  logger: Logger;
  reliability: ResolvedReliability;
  /** The stream stopped using a provider after a failure (takes it out of rotation). */
  onProviderFailed?: (provider: Provider, error: SttError) => void;
  onClosed?: (stream: RecognitionStream) => void;
}

/**
 * The recognizer saw a provider of higher priority than the one serving this stream available again
 * (its recovery probe succeeded): switch back to it at the next utterance boundary. Not a public API.
 * @internal
 */
export const PROVIDER_RECOVERED = Symbol('streaming-stt.providerRecovered');

const PACE_TICK_MS = 50;
/**
 * A handover in a long pause does not replay all of it: the new connection starts at most this long
 * before the newest audio when both the provider (no utterance open) and the energy endpointer (no
 * speech since the last final) say the pause is silence, ms. Covers the endpointer's onset delay.
 */
const PAUSE_KEPT_MS = 1000;
/** Speech the endpointer may still hear after a final's end (its hangover and word-end slack), ms. */
const SPEECH_AFTER_FINAL_MS = 500;
/** How long `end()` waits for a provider's last finals when neither the stream nor the provider says, ms. */
const DEFAULT_END_TIMEOUT_MS = 5000;
const MAX_FINALIZE_MARKS = 256;

/**
 * A streaming recognition session. Create it with `recognizer.stream()`.
 *
 * Events (see {@link RecognitionStreamEvents}): `state`, `open`, `speechstart`, `partial`, `final`,
 * `speechend`, `metrics`, `reconnect`, `fallback`, `handover`, `error`, `close`, `drain`. Emitting `error`
 * with no listener never throws. Also async-iterable: `for await (const ev of stream)` yields
 * every event but `drain` and `error`, and throws the `SttError` when the stream fails.
 */
export class RecognitionStream extends EventEmitter<RecognitionStreamEvents> {
  private _state: StreamState = 'connecting';
  private readonly inputFormat: Required<AudioFormat>;
  private readonly inBytesPerMs: number;
  private readonly sampleBytes: number;
  /** The stream's `endTimeoutMs` option; undefined: the provider's own, else {@link DEFAULT_END_TIMEOUT_MS}. */
  private readonly endTimeoutMs: number | undefined;
  private readonly hwmMs: number;
  private readonly logger: Logger;
  private readonly rel: ResolvedReliability;
  private readonly clock = new WriteClock();
  private readonly replay: ReplayBuffer;
  private readonly intake: AudioIntake;
  private readonly activity: SpeechActivity;
  private readonly sup: Supervisor;
  private readonly stall: StallWatch;
  /** Settings the latest `reconfigure()` asked for (those of the serving connection when none is pending). */
  private desired: ConnectSettings;

  private pacer: NodeJS.Timeout | undefined;
  private finalizeMarks: number[] = [];
  private needDrain = false;
  /** Input byte position where end() was called. */
  private endAt: number | undefined;

  private readonly ledger: UtteranceLedger;
  private endPromise: Promise<StreamSummary> | undefined;
  private resolveEnd: ((s: StreamSummary) => void) | undefined;
  private summary: StreamSummary | undefined;
  private readonly onSignalAbort: () => void;

  /** @internal Use `recognizer.stream()`. */
  constructor(private readonly init: StreamInit) {
    super();
    const o = init.options;
    const checked = resolveStreamOptions(o, init.reliability.replayWindowMs);
    this.inputFormat = normalizeAudioFormat(o.audio);
    this.inBytesPerMs = bytesPerMs(this.inputFormat);
    this.sampleBytes = bytesPerSample(this.inputFormat.encoding);
    this.ledger = new UtteranceLedger({ bytesPerMs: this.inBytesPerMs, includeRaw: checked.includeRaw, clock: this.clock });
    this.endTimeoutMs = checked.endTimeoutMs;
    this.rel = init.reliability;
    this.replay = new ReplayBuffer(Math.round(checked.replayWindowMs * this.inBytesPerMs), this.sampleBytes);
    this.intake = new AudioIntake({
      sampleBytes: this.sampleBytes,
      bytesPerMs: this.inBytesPerMs,
      windowBytes: this.replay.windowBytes,
      logger: init.logger,
      onWarning: (w) => this.emit('warning', w),
    });
    const hwmBytes = Math.min(checked.highWaterMark ?? Math.round(this.inBytesPerMs * 2000), this.replay.windowBytes);
    this.hwmMs = hwmBytes / this.inBytesPerMs;
    this.logger = init.logger;
    this.activity = new SpeechActivity(this.inputFormat);
    if (!init.providers[0]) throw new StateError('no provider is available for a new stream');
    this.desired = initialSettings({ language: o.language ?? init.language, interimResults: checked.interimResults }, o, init.providers);
    this.stall = new StallWatch((s) => this.onStall(s));
    this.sup = new Supervisor(
      {
        providers: init.providers,
        reliability: this.rel,
        giveUpAfterMs: this.rel.giveUpAfterMs ?? checked.replayWindowMs,
        input: this.inputFormat,
        settings: this.desired,
        includeRaw: checked.includeRaw,
        logger: this.logger,
        origin: () => this.replay.start,
        ...(init.onProviderFailed ? { onProviderFailed: init.onProviderFailed } : {}),
      },
      this.listener,
    );
    this.onSignalAbort = () => this.abort(o.signal?.reason);
    if (o.signal) {
      if (o.signal.aborted) queueMicrotask(() => this.abort(o.signal?.reason));
      else o.signal.addEventListener('abort', this.onSignalAbort, { once: true });
    }
    this.sup.start();
  }

  /** Lifecycle state; every change is also a `state` event. */
  get state(): StreamState {
    return this._state;
  }

  /** Id of the provider serving now. */
  get provider(): string {
    return this.sup.provider.id;
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
    return this.intake.droppedMs;
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
    if (this._state !== 'connecting' && this._state !== 'open') {
      this.intake.refuse(input.byteLength, this._state);
      if (this.summary) this.summary.droppedMs = this.intake.droppedMs;
      return false;
    }
    const { bytes, over } = this.intake.admit(input, this.roomBytes());
    if (bytes.byteLength === 0 && !over) return !this.needDrain;
    if (bytes.byteLength > 0) {
      const link = this.sup.link;
      const caughtUp = link !== undefined && this.pacer === undefined && link.sent === this.replay.end;
      this.replay.append(bytes);
      const now = performance.now();
      this.clock.record(this.audioMs, now);
      const speaking = this.activity.push(bytes);
      if (caughtUp) {
        link.sendInput(bytes, this.onDrained);
        this.stall.sent(now, link.sent / this.inBytesPerMs, speaking);
      } else this.pump();
    }
    const ok = !over && this.queuedMs() < this.hwmMs;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Input bytes the stream can still take without overwriting audio that no connection has sent. */
  private roomBytes(): number {
    const link = this.sup.link; // undefined while (re)connecting: nothing after the replay start was sent
    const unsentFrom = link === undefined || link.retired ? this.replay.start : Math.max(link.sent, this.replay.start);
    return Math.max(0, this.replay.windowBytes - (this.replay.end - unsentFrom));
  }

  /** The caller's VAD says the turn ended: finish the current utterance now (RTZR `Finalize`). */
  finalize(): void {
    if (this._state !== 'connecting' && this._state !== 'open') return;
    const at = this.replay.end;
    this.finalizeMarks.push(at);
    if (this.finalizeMarks.length > MAX_FINALIZE_MARKS) this.finalizeMarks.shift();
    const link = this.sup.link;
    if (link && link.sent === at) this.applyFinalize(link);
  }

  /**
   * Flush, signal end of audio, wait for the last finals (at most `endTimeoutMs` once the
   * provider has all the audio; a provider that misses it is recovered from like a stall, see
   * docs/fallback-and-reliability.md), close. Resolves with the summary; never rejects: a failure
   * is in `summary.error`.
   */
  end(): Promise<StreamSummary> {
    if (this.endPromise) return this.endPromise;
    this.endPromise = new Promise<StreamSummary>((resolve) => (this.resolveEnd = resolve));
    if (this.summary) {
      this.resolveEnd?.(this.summary);
      return this.endPromise;
    }
    this.intake.dropPartial();
    this.sup.stopHandovers(new StateError('the stream ended before a new connection took over (end() was called)', { provider: this.sup.provider.id }));
    this.transition('ending');
    this.endAt = this.replay.end;
    this.pump();
    return this.endPromise;
  }

  /**
   * Change the stream's settings mid-call without losing or repeating a word: a new connection with
   * the new settings is opened ahead while the current one keeps serving, and the stream moves to it
   * at the next utterance boundary (a `handover` event, reason `'reconfigure'`), replaying the audio
   * after the last final. RTZR, for one, takes its decoder options only in the handshake, so any
   * change is a new connection. Fields left out keep their value; calls made while one is pending
   * merge into it (one handover, every promise settles with it). If no boundary comes within
   * `fallback.handoverWaitMs` (default 15 s), the handover is forced (`forced: true`): the utterance
   * in progress is re-recognised on the new connection under the same `utteranceId`.
   * @returns resolves when the new connection carries the stream (at once when nothing changes).
   * @throws (rejects, never throws synchronously) {@link ConfigurationError} (`INVALID_CONFIG`) for an
   * unknown or invalid option, one a provider rejects (`Provider.checkSessionOptions`), or
   * `providerOptions` for a provider that is not in the stream or takes none; {@link StateError}
   * (`INVALID_STATE`) when the stream has ended, failed or was aborted, or `end()` is called before the
   * switch; an {@link AbortError} when it is aborted before it; the new connection's error when it
   * failed permanently, or transiently `reconnect.retries` times (the current connection and settings
   * carry on); the stream's own error when it fails first.
   */
  reconfigure(options: ReconfigureOptions): Promise<void> {
    if (this._state !== 'connecting' && this._state !== 'open') {
      return Promise.reject(new StateError(`reconfigure() on a stream that is ${this._state}`, { provider: this.sup.provider.id }));
    }
    let next: ConnectSettings;
    try {
      next = reconfigured(this.desired, options, this.init.providers);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (sameSettings(next, this.desired) && !this.sup.handoverPending) return Promise.resolve();
    this.desired = next;
    return this.sup.handover({ reason: 'reconfigure', settings: next }).catch((err: unknown) => {
      // given up: later changes start from the settings in use
      if (!this.sup.handoverPending) this.desired = this.sup.connectSettings;
      throw err;
    });
  }

  /** @internal See {@link PROVIDER_RECOVERED}. */
  [PROVIDER_RECOVERED](provider: Provider): void {
    if (this._state === 'open' || this._state === 'connecting') this.sup.recovered(provider);
  }

  /** Stop now: close the connection, no more events but `state` and `close`. `summary.error` is an {@link AbortError}. */
  abort(reason?: unknown): void {
    if (this.closed) return;
    const message = reason instanceof Error ? reason.message : reason !== undefined ? String(reason) : 'stream aborted';
    this.finish('closed', new AbortError(message, { provider: this.sup.provider.id }));
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
      provider: this.sup.provider.id,
      providers: this.sup.providersUsed.slice(),
      audio: { ...this.inputFormat },
      audioMs: Math.round(this.audioMs),
      droppedMs: this.droppedMs,
      replayBufferedMs: Math.round(this.replayBufferedMs),
      finals: this.ledger.finals.length,
      reconnects: this.sup.reconnects,
      fallbacks: this.sup.fallbacks,
      handovers: this.sup.handovers,
    };
  }

  /** Yields events until `close` (inclusive); throws the `SttError` if the stream fails. */
  [Symbol.asyncIterator](): AsyncIterableIterator<RecognitionEvent> {
    return iterateEvents(this, () => this.summary);
  }

  // ─────────────────────────── state ───────────────────────────

  private get closed(): boolean {
    return this._state === 'closed' || this._state === 'failed';
  }

  /** The one place the state changes; emits `state`. Closed and failed are final. */
  private transition(to: StreamState, reason?: SttError): void {
    const from = this._state;
    if (from === to || this.closed) return;
    this._state = to;
    this.emit('state', reason ? { from, to, reason } : { from, to });
  }

  // ─────────────────────────── connections (the supervisor's reports) ───────────────────────────

  private readonly listener: SupervisorListener = {
    opened: (link) => {
      this.startLink(link);
      if (this._state === 'connecting') this.transition('open');
      this.emit('open', { provider: link.provider.id });
      this.pump();
    },
    result: (link, r) => this.onResult(link, r),
    lost: (_link, reason) => {
      this.stopPacer();
      this.stall.stop();
      this.ledger.linkLost();
      if (this._state === 'open') this.transition('connecting', reason);
    },
    reconnecting: (event) => this.emit('reconnect', event),
    fallingBack: (from, to, reason) => {
      const replayedMs = Math.round(this.replay.size / this.inBytesPerMs);
      this.emit('fallback', { from, to, reason, replayedMs });
    },
    owesResult: () => this.stall.owed,
    failed: (error) => this.fail(error),
    atBoundary: () => this.atBoundary(),
    handedOver: (from, to, reason, forced) => this.onHandedOver(from, to, reason, forced),
  };

  /** A connection starts carrying the stream: its replay burst, and the stall watch for it. */
  private startLink(link: Link): void {
    const burst = Math.round(this.rel.replayBurstMs * this.inBytesPerMs);
    link.burstLeft = burst - (burst % this.sampleBytes);
    const caps = link.provider.capabilities;
    const watch = caps.streaming && caps.interimResults;
    const timeoutMs = this.rel.stallTimeoutMs ?? caps.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    // A provider with a stall allowance of its own answers in wall time whatever the pace (a model pass).
    this.stall.reset(watch ? timeoutMs : 0, caps.stallTimeoutMs === undefined ? this.rel.replaySpeed : 1);
  }

  /**
   * The utterance boundary of a handover: every utterance the serving connection reported has its
   * final (none is waiting to continue after a reconnect either), and the audio that connection has
   * been sent since the last final is silence by the energy endpointer: a pause, as far as the
   * connection heard. Switching then cuts nothing: the old connection heard only silence after its
   * last final; the new one is sent everything after that final (speech the caller started since
   * included).
   */
  private atBoundary(): boolean {
    const link = this.sup.link;
    if (!link || this.closed || this.ledger.adopt) return false;
    for (const u of link.segments.values()) if (!u.finalized) return false;
    // what left this process for the connection (a session that paces audio, Google's, holds some back)
    const heardMs = link.sent / this.inBytesPerMs - link.pendingWireBytes / link.wireBytesPerMs;
    return !this.activity.speechBetween(this.ledger.committedMs + SPEECH_AFTER_FINAL_MS, heardMs);
  }

  /** The endpointer is in speech, or heard speech after the last final (beyond the final's own end), in all the audio written. */
  private speechSinceFinal(): boolean {
    return this.activity.speaking || this.activity.lastSpeechMs > this.ledger.committedMs + SPEECH_AFTER_FINAL_MS;
  }

  /** The supervisor moved the stream to a connection opened ahead: replay into it what is not final yet. */
  private onHandedOver(from: Link, to: Link, reason: HandoverReason, forced: boolean): void {
    this.stopPacer();
    if (forced) this.ledger.adoptOpenOf(from); // the utterance in progress continues on the new connection, under its id
    const origin = this.handoverOrigin(forced);
    if (origin > this.replay.start) this.replay.commit(origin);
    to.startAt(this.replay.start);
    this.startLink(to);
    const replayedMs = Math.round((this.replay.end - to.offset) / this.inBytesPerMs);
    this.emit('handover', { from: from.provider.id, to: to.provider.id, reason, forced, replayedMs });
    this.pump();
  }

  /**
   * Where a handover's new connection starts: after the last final; in a long pause that the
   * provider and the energy endpointer both call silence, {@link PAUSE_KEPT_MS} before the newest
   * audio (a provider paced at real time, Google's, would otherwise spend the pause replaying it).
   */
  private handoverOrigin(forced: boolean): number {
    const start = this.replay.start;
    if (forced || this.speechSinceFinal()) return start;
    const keep = Math.round((this.audioMs - PAUSE_KEPT_MS) * this.inBytesPerMs);
    return Math.max(start, keep - (keep % this.sampleBytes));
  }

  /** Speech went out and nothing came back for the allowance: a stall, recovered like a failure. */
  private onStall(s: Stall): void {
    const link = this.sup.link;
    if (!link) return;
    const id = link.provider.id;
    this.sup.fail(
      link,
      new TimeoutError(
        `${id} sent no result while speech was being sent (stalled): ${s.wallMs} ms of wall time, ${s.audioMs} ms of audio (stallTimeoutMs ${s.timeoutMs})`,
        { provider: id },
      ),
    );
  }

  // ─────────────────────────── sending ───────────────────────────

  /** Send what the current link has not sent yet: a burst, then paced; then finalize/end markers. */
  private pump(): void {
    const link = this.sup.link;
    if (this.closed || !link || link.ending) return;
    this.stopPacer();
    const backlog = this.replay.end - link.sent;
    if (backlog > 0) {
      const now = Math.min(backlog, Math.max(link.burstLeft, 0));
      if (now > 0) {
        link.burstLeft -= now;
        const fromMs = link.sent / this.inBytesPerMs;
        this.sendRange(link, link.sent + now);
        const toMs = link.sent / this.inBytesPerMs;
        this.stall.sent(performance.now(), toMs, this.activity.speechBetween(fromMs, toMs));
        if (link !== this.sup.link) return; // the stall watch retired it
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
    if (this.endAt !== undefined && link.sent >= this.endAt) this.endLink(link);
  }

  /** Everything is sent: end of audio, then wait (bounded) for the last finals and the close. */
  private endLink(link: Link): void {
    link.ending = true;
    this.stall.stop();
    link.flushAll(this.onDrained);
    const timeoutMs = this.endTimeoutMs ?? link.provider.capabilities.endTimeoutMs ?? DEFAULT_END_TIMEOUT_MS;
    void link.session!.end(timeoutMs).then((outcome) => {
      if (this.closed || link.retired) return;
      if (outcome === 'timeout' && this.unfinishedSpeech()) {
        // The provider went quiet with speech still not final: a stall. Recover and end again.
        const id = link.provider.id;
        this.sup.fail(
          link,
          new TimeoutError(`${id} did not deliver the last finals within ${timeoutMs} ms of the end of audio (stalled)`, {
            provider: id,
          }),
        );
        return;
      }
      this.finish('closed');
    });
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
    const link = this.sup.link;
    if (!link) return this.replay.size / this.inBytesPerMs;
    const unsent = (this.replay.end - Math.max(link.sent, this.replay.start)) / this.inBytesPerMs;
    return unsent + link.pendingWireBytes / link.wireBytesPerMs;
  }

  private maybeDrain(): void {
    if (this.needDrain && this.queuedMs() < this.hwmMs && (this._state === 'open' || this._state === 'connecting')) {
      this.needDrain = false;
      this.emit('drain');
    }
  }

  private waitDrain(): Promise<void> {
    return new Promise((resolve) => {
      if (this.closed || !this.needDrain) {
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

  /** Speech was heard after the last final (an utterance is open, or the energy endpointer heard more). */
  private unfinishedSpeech(): boolean {
    if (this.ledger.speaking) return true;
    return this.activity.lastSpeechMs > this.ledger.committedMs + 300;
  }

  // ─────────────────────────── results ───────────────────────────

  private onResult(link: Link, r: ProviderResult): void {
    if (this.closed) return;
    this.stall.result();
    this.sup.progress(link, this.ledger.isFreshFinal(link, r));
    if (this.closed) return;
    const mapped = this.ledger.map(link, r, performance.now());
    if (!mapped) return;
    const { transcript: t, utterance: utt, started } = mapped;
    if (started) this.emit('speechstart', { utteranceId: utt.id, startMs: t.startMs });
    if (t.type === 'partial') {
      if (link.settings.interimResults) this.emit('partial', t);
      return;
    }
    this.replay.commit(Math.round(t.endMs * this.inBytesPerMs));
    this.finalizeMarks = this.finalizeMarks.filter((m) => m > this.replay.start);
    this.emit('final', t);
    this.emit('speechend', { utteranceId: utt.id, endMs: t.endMs });
    this.emit('metrics', this.ledger.metrics(link, utt, t));
    if (link === this.sup.link && this.atBoundary()) this.sup.boundary();
  }

  // ─────────────────────────── closing ───────────────────────────

  private fail(error: SttError): void {
    if (this.closed) return;
    this.logger.warn('stream failed', { provider: error.provider ?? this.sup.provider.id, code: error.code, message: error.message });
    this.finish('failed', error);
  }

  private finish(state: 'closed' | 'failed', error?: SttError): void {
    if (this.closed) return;
    this.intake.dropPartial();
    this.transition(state, error);
    if (state === 'failed') this.emit('error', error!);
    this.sup.close(error);
    this.stopPacer();
    this.stall.stop();
    this.replay.clear();
    this.init.options.signal?.removeEventListener('abort', this.onSignalAbort);
    const summary: StreamSummary = {
      transcripts: this.ledger.finals.slice(),
      text: this.ledger.finals
        .map((f) => f.text)
        .filter((x) => x !== '')
        .join(' '),
      audioMs: Math.round(this.audioMs),
      droppedMs: this.droppedMs,
      providers: this.sup.providersUsed.slice(),
      reconnects: this.sup.reconnects,
      fallbacks: this.sup.fallbacks,
      handovers: this.sup.handovers,
    };
    if (error) summary.error = error;
    this.summary = summary;
    this.init.onClosed?.(this);
    this.emit('close', summary);
    this.resolveEnd?.(summary);
    this.removeAllListeners();
  }
}
