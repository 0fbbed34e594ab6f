/**
 * One WhisperLive connection: the options message and the wait for
 * `SERVER_READY` (`WAIT` → `RateLimitError`, `ERROR` → `ProviderError`, no
 * answer → `TimeoutError`), then float32 frames out and transcript updates
 * in. `end()` pads `endPaddingMs` of silence, waits until the server's
 * transcript covers the speech sent (see `end-of-audio.ts`), then sends
 * `END_OF_AUDIO` and closes; past the end timeout it resolves `'timeout'`
 * without passing an in-progress segment off as a final.
 * Source: collabora/WhisperLive server.py, backend/base.py, client.py.
 * @module
 * @internal
 */
import type WebSocket from 'ws';
import { Endpointer, type EndpointerEvent } from '../../audio/endpointer.js';
import { bytesAsFloat32, float32ToPcm16 } from '../../audio/pcm.js';
import { ConnectionError, ProviderError, RateLimitError, TimeoutError, type SttError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { SampleAligner, sendFrames } from '../../transport/binary-frames.js';
import { WsSession } from '../../transport/ws-session.js';
import type { ProviderResult } from '../provider.js';
import { LATENCY_ALLOWANCE_MS, decideEndOfAudio, type EndDecision } from './end-of-audio.js';
import { END_OF_AUDIO, parseServerMessage, type RawSegment } from './messages.js';
import type { ResolvedWhisperLiveOptions } from './options.js';
import { SegmentTracker } from './segments.js';

/** Counters a session adds to (the provider's `stats`). @internal */
export interface WhisperLiveSessionStats {
  updates: number;
  segmentsResent: number;
  waits: number;
  /** In-progress segments delivered as finals because the server had provably transcribed all the speech. */
  pendingDelivered: number;
}

/** @internal */
export interface WhisperLiveSessionInit {
  ws: WebSocket;
  uid: string;
  optionsMessage: Record<string, unknown>;
  options: ResolvedWhisperLiveOptions;
  /** `performance.now()` when the connection attempt started (connectMs covers the wait for SERVER_READY). */
  startedAt: number;
  interimResults: boolean;
  includeRaw: boolean;
  stats: WhisperLiveSessionStats;
  logger: Logger;
  onResult(result: ProviderResult): void;
  onError(error: SttError): void;
}

/** Samples per ms at 16 kHz. */
const SAMPLES_PER_MS = 16;

/** @internal */
export class WhisperLiveSession extends WsSession {
  private readonly tracker: SegmentTracker;
  private readonly aligner = new SampleAligner(4);
  private readonly endpointer = new Endpointer({ sampleRate: 16000 });
  private scratch = new Int16Array(1600);
  private language: string | undefined;
  /** Audio sent, samples (the end padding included). */
  private sentSamples = 0;
  /** End of the last speech in the audio sent, ms (0: none). */
  private speechEndMs = 0;
  /** `performance.now()` when the last audio (and the end padding) was handed to the network. */
  private flushedAt: number | undefined;
  private updatesSinceFlush = 0;
  private lateUpdates = 0;
  private eoaSent = false;
  /** `performance.now()` of the last update, and the longest gap between updates while a segment was in progress (a model pass). */
  private lastUpdateAt: number | undefined;
  private lastUpdateHadPending = false;
  private passMs = 0;
  private quietTimer: NodeJS.Timeout | undefined;

  constructor(private readonly init: WhisperLiveSessionInit) {
    super({
      provider: init.options.id,
      label: 'WhisperLive',
      ws: init.ws,
      costs: { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false },
      pingIntervalMs: init.options.pingIntervalMs,
      logger: init.logger,
      onResult: init.onResult,
      onError: init.onError,
      opening: {
        timeoutMs: init.options.readyTimeoutMs,
        timeoutError: () =>
          new TimeoutError(`WhisperLive sent no SERVER_READY within ${init.options.readyTimeoutMs} ms`, { provider: init.options.id }),
      },
    });
    this.tracker = new SegmentTracker(init.interimResults, init.includeRaw);
    const lang = init.optionsMessage.language;
    if (typeof lang === 'string') this.language = lang;
    this.ws.send(JSON.stringify(init.optionsMessage));
  }

  protected override sendAudio(audio: Uint8Array, onSent?: () => void): void {
    const frame = this.aligner.align(audio);
    if (frame.length > 0) {
      const samples = bytesAsFloat32(frame);
      if (this.scratch.length < samples.length) this.scratch = new Int16Array(samples.length);
      this.onSpeech(this.endpointer.push(float32ToPcm16(samples, this.scratch)));
      this.sentSamples += samples.length;
    }
    sendFrames(this.ws, frame, this.init.options.maxFrameBytes, onSent);
  }

  /** WhisperLive cannot end an utterance early: finals come when the server commits a segment. */
  override finalize(): void {}

  protected beginEnd(): void {
    this.aligner.reset();
    this.onSpeech(this.endpointer.flush());
    const padBytes = this.init.options.endPaddingMs * SAMPLES_PER_MS * 4;
    this.sentSamples += padBytes / 4;
    // the padding lets the server run a pass over the end of the speech; its last frame's callback marks the flush
    sendFrames(this.ws, new Uint8Array(padBytes), this.init.options.maxFrameBytes, () => this.onFlushed());
    this.check();
  }

  protected override onEndTimeout(timeoutMs: number): void {
    const pending = this.tracker.pending;
    this.logger.warn('whisperlive: the transcript did not cover the speech within the end timeout; giving up on this session', {
      provider: this.provider,
      timeoutMs,
      speechEndMs: Math.round(this.speechEndMs),
      committedEndMs: Number.isFinite(this.tracker.committedEndMs) ? Math.round(this.tracker.committedEndMs) : null,
      pendingEndMs: pending ? Math.round(pending.endMs) : null,
      updatesSinceFlush: this.updatesSinceFlush,
      lateUpdates: this.lateUpdates,
    });
  }

  protected override dispose(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
  }

  private onSpeech(events: readonly EndpointerEvent[]): void {
    for (const ev of events) if (ev.type === 'voiceend') this.speechEndMs = Math.max(this.speechEndMs, ev.endMs);
  }

  private onFlushed(): void {
    if (this.state !== 'ending' || this.flushedAt !== undefined) return;
    this.flushedAt = performance.now();
    this.check();
  }

  /**
   * After an update that came from a pass over all the audio or the one before it (received
   * {@link LATENCY_ALLOWANCE_MS} after the flush): no further update for two model passes (as
   * observed in this session, at least `endSettleMs`) with nothing in progress means the next pass,
   * over everything the server had, found no speech (its VAD dropped what the endpointer heard).
   * Without such an update the server may have stalled: nothing is concluded, and the end timeout
   * decides.
   */
  private armQuiet(): void {
    if (this.quietTimer) clearTimeout(this.quietTimer);
    this.quietTimer = undefined;
    if (this.state !== 'ending' || this.eoaSent || this.lateUpdates === 0) return;
    const o = this.init.options;
    const quietMs = Math.max(o.endSettleMs, 2 * this.passMs + 250);
    this.quietTimer = setTimeout(() => {
      this.quietTimer = undefined;
      if (!this.tracker.pending) this.sendEndOfAudio('quiet', quietMs);
    }, quietMs);
  }

  private check(): void {
    if (this.state !== 'ending' || this.eoaSent) return;
    const decision = decideEndOfAudio({
      speechEndMs: this.speechEndMs,
      committedEndMs: this.tracker.committedEndMs,
      ...(this.tracker.pending ? { pending: this.tracker.pending } : {}),
      flushed: this.flushedAt !== undefined,
      updatesSinceFlush: this.updatesSinceFlush,
      lateUpdates: this.lateUpdates,
    });
    if (decision !== 'wait') this.sendEndOfAudio(decision);
  }

  private sendEndOfAudio(reason: EndDecision | 'quiet', quietMs?: number): void {
    if (this.eoaSent) return;
    this.eoaSent = true;
    if (reason === 'partial-covers' || reason === 'full-pass') {
      const r = this.tracker.promotePartial(this.language);
      if (r) {
        this.init.stats.pendingDelivered++;
        this.emit(r);
      }
    }
    this.logger.debug('whisperlive: the transcript covers the speech sent; END_OF_AUDIO', {
      provider: this.provider,
      reason,
      ...(quietMs === undefined ? {} : { quietMs }),
    });
    this.ws.send(END_OF_AUDIO, { binary: true }, () => this.closeGracefully('end of audio'));
  }

  protected onText(text: string): void {
    const msg = parseServerMessage(this.provider, text, this.init.uid);
    switch (msg.kind) {
      case 'ready':
        if (this.state !== 'opening') return;
        this.costs.connectMs = Math.round(performance.now() - this.init.startedAt);
        this.logger.debug('whisperlive: server ready', { provider: this.provider, backend: msg.backend });
        this.markOpen();
        return;
      case 'wait':
        this.init.stats.waits++;
        this.fail(
          new RateLimitError(`WhisperLive server is full (max_clients); a slot frees in about ${msg.minutes.toFixed(1)} min`, {
            provider: this.provider,
            retryAfterMs: Math.max(0, Math.round(msg.minutes * 60_000)),
          }),
        );
        return;
      case 'error':
        // Before SERVER_READY the server rejects the configuration (the model cannot be loaded):
        // permanent. During a session nothing marks an error permanent: retry.
        this.fail(new ProviderError(`WhisperLive error: ${msg.message}`, { provider: this.provider, retryable: this.state !== 'opening' }));
        return;
      case 'warning':
        this.logger.warn('whisperlive: server warning', { provider: this.provider, message: msg.message });
        return;
      case 'language':
        this.language = msg.language;
        return;
      case 'disconnect':
        if (this.eoaSent) return; // the close follows
        this.fail(
          new ConnectionError('CONNECTION_LOST', 'WhisperLive ended the session (DISCONNECT: max_connection_time reached)', {
            provider: this.provider,
          }),
        );
        return;
      case 'segments':
        this.onSegments(msg.segments, text);
        return;
      case 'ignored':
        return;
    }
  }

  private onSegments(segments: RawSegment[], frame: string): void {
    if (this.state !== 'open' && this.state !== 'ending') return;
    this.init.stats.updates++;
    const now = performance.now();
    if (this.lastUpdateAt !== undefined && this.lastUpdateHadPending) this.passMs = Math.max(this.passMs, now - this.lastUpdateAt);
    this.lastUpdateAt = now;
    const resent = this.tracker.resent;
    const raw = this.init.includeRaw ? (JSON.parse(frame) as unknown) : undefined;
    for (const r of this.tracker.update(segments, raw, this.language)) this.emit(r);
    this.lastUpdateHadPending = this.tracker.pending !== undefined;
    this.init.stats.segmentsResent += this.tracker.resent - resent;
    if (this.state !== 'ending' || this.eoaSent) return;
    if (this.flushedAt !== undefined) {
      this.updatesSinceFlush++;
      if (now - this.flushedAt >= LATENCY_ALLOWANCE_MS) this.lateUpdates++;
    }
    this.check();
    this.armQuiet();
  }

  /** After `END_OF_AUDIO` the server closes (normally 1000; any close is fine, everything was delivered). */
  protected override isCleanClose(): boolean {
    return this.eoaSent;
  }
}
