/**
 * One WhisperLive connection: the options message and the wait for
 * `SERVER_READY` (`WAIT` → `RateLimitError`, `ERROR` → `ProviderError`, no
 * answer → `TimeoutError`), then float32 frames out and transcript updates
 * in; `end()` pads one second of silence (the server transcribes only once a
 * second of new audio is buffered), waits until the transcript settles, sends
 * `END_OF_AUDIO` and, as the server does not flush, turns the last
 * in-progress segment into the final when the socket closes.
 * Source: collabora/WhisperLive server.py, backend/base.py, client.py.
 * @module
 * @internal
 */
import { inspect, type InspectOptionsStylized } from 'node:util';
import WebSocket from 'ws';
import {
  AbortError,
  ConnectionError,
  ProviderError,
  RateLimitError,
  TimeoutError,
  type SttError,
  toSttError,
} from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { SampleAligner, sendFrames, sendSilence } from '../../transport/binary-frames.js';
import type { EndOutcome, ProviderResult, ProviderSession, SessionCosts } from '../provider.js';
import { END_OF_AUDIO, parseServerMessage, type ServerMessage } from './messages.js';
import type { ResolvedWhisperLiveOptions } from './options.js';
import { SegmentTracker } from './segments.js';
import { inspectView, sessionView } from '../../inspection.js';

/** Bytes per ms of float32 16 kHz mono. */
const BYTES_PER_MS = 64;

/** Counters a session adds to (the provider's `stats`). @internal */
export interface WhisperLiveSessionStats {
  updates: number;
  segmentsResent: number;
  waits: number;
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

type State = 'handshake' | 'open' | 'ending' | 'closed';

/** @internal */
export class WhisperLiveSession implements ProviderSession {
  readonly costs: SessionCosts = { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false };
  /** Resolves on `SERVER_READY`; rejects with a typed error (the socket is then closed). */
  readonly ready: Promise<void>;
  private readonly ws: WebSocket;
  private readonly provider: string;
  private readonly tracker: SegmentTracker;
  private readonly aligner = new SampleAligner(4);
  private state: State = 'handshake';
  private silenced = false;
  private language: string | undefined;
  private resolveReady!: () => void;
  private rejectReady!: (e: SttError) => void;
  private readyTimer: NodeJS.Timeout | undefined;
  private ping: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private settleTimer: NodeJS.Timeout | undefined;
  private eosSent = false;
  private closeWaiters: (() => void)[] = [];
  /** How end() finished: `'timeout'` once its timer fired. */
  private endOutcome: EndOutcome = 'closed';

  constructor(private readonly init: WhisperLiveSessionInit) {
    this.ws = init.ws;
    this.provider = init.options.id;
    this.tracker = new SegmentTracker(init.interimResults, init.includeRaw);
    const lang = init.optionsMessage.language;
    if (typeof lang === 'string') this.language = lang;
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by the provider; never an unhandled rejection
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('close', (code) => this.onClose(code));
    this.readyTimer = setTimeout(
      () =>
        this.failHandshake(
          new TimeoutError(`WhisperLive sent no SERVER_READY within ${init.options.readyTimeoutMs} ms`, { provider: this.provider }),
        ),
      init.options.readyTimeoutMs,
    );
    this.ws.send(JSON.stringify(init.optionsMessage));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  send(audio: Uint8Array, onSent?: () => void): void {
    if (this.state !== 'open' || this.ws.readyState !== WebSocket.OPEN) {
      onSent?.();
      return;
    }
    sendFrames(this.ws, this.aligner.align(audio), this.init.options.maxFrameBytes, onSent);
  }

  /** WhisperLive cannot end an utterance early: finals come when the server commits a segment. */
  finalize(): void {}

  end(timeoutMs: number): Promise<EndOutcome> {
    if (this.state === 'closed' || this.state === 'handshake') {
      this.terminate();
      return Promise.resolve('closed');
    }
    const done = new Promise<EndOutcome>((resolve) => this.closeWaiters.push(() => resolve(this.endOutcome)));
    if (this.state === 'ending') return done;
    this.state = 'ending';
    this.aligner.reset();
    this.endTimer = setTimeout(() => {
      this.init.logger.warn('whisperlive: the server did not close within the end timeout; closing', {
        provider: this.provider,
        timeoutMs,
      });
      this.endOutcome = 'timeout';
      this.deliverLastPartial();
      this.terminate();
    }, timeoutMs);
    if (this.ws.readyState !== WebSocket.OPEN) {
      this.deliverLastPartial();
      this.terminate();
      return done;
    }
    sendSilence(this.ws, this.init.options.endPaddingMs * BYTES_PER_MS, this.init.options.maxFrameBytes);
    this.armSettle();
    return done;
  }

  abort(): void {
    this.silenced = true;
    if (this.state === 'handshake') this.rejectReady(new AbortError('stream aborted while connecting', { provider: this.provider }));
    this.terminate();
  }

  private armSettle(): void {
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.sendEndOfAudio(), this.init.options.endSettleMs);
  }

  private sendEndOfAudio(): void {
    if (this.eosSent || this.state !== 'ending') return;
    this.eosSent = true;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(END_OF_AUDIO, { binary: true });
  }

  private deliverLastPartial(): void {
    const r = this.tracker.promotePartial(this.language);
    if (r) this.emit(r);
  }

  private emit(r: ProviderResult): void {
    if (!this.silenced) this.init.onResult(r);
  }

  private terminate(): void {
    if (this.state !== 'closed') {
      this.state = 'closed';
      this.cleanup();
      this.ws.terminate();
    }
    const w = this.closeWaiters;
    this.closeWaiters = [];
    for (const f of w) f();
  }

  private cleanup(): void {
    for (const t of [this.readyTimer, this.ping, this.endTimer, this.settleTimer]) if (t) clearTimeout(t);
    this.readyTimer = this.ping = this.endTimer = this.settleTimer = undefined;
  }

  private failHandshake(error: SttError): void {
    if (this.state !== 'handshake') return;
    this.silenced = true;
    this.rejectReady(error);
    this.terminate();
  }

  private fail(error: SttError): void {
    if (this.state === 'closed') return;
    if (this.state === 'handshake') {
      this.failHandshake(error);
      return;
    }
    this.silenced = true;
    this.terminate();
    this.init.onError(error);
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.state === 'closed' || isBinary) return;
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    let msg: ServerMessage;
    try {
      msg = parseServerMessage(this.provider, text, this.init.uid);
    } catch (err) {
      this.fail(toSttError(err, this.provider));
      return;
    }
    switch (msg.kind) {
      case 'ready':
        if (this.state !== 'handshake') return;
        this.state = 'open';
        if (this.readyTimer) clearTimeout(this.readyTimer);
        this.readyTimer = undefined;
        this.costs.connectMs = Math.round(performance.now() - this.init.startedAt);
        this.ping = setInterval(() => {
          if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
        }, this.init.options.pingIntervalMs);
        this.init.logger.debug('whisperlive: server ready', { provider: this.provider, backend: msg.backend });
        this.resolveReady();
        return;
      case 'wait':
        this.init.stats.waits++;
        this.fail(
          new RateLimitError(`WhisperLive server is full (max_clients); a slot frees in about ${msg.minutes.toFixed(1)} min`, {
            provider: this.provider,
          }),
        );
        return;
      case 'error':
        this.fail(new ProviderError(`WhisperLive error: ${msg.message}`, { provider: this.provider, retryable: false }));
        return;
      case 'warning':
        this.init.logger.warn('whisperlive: server warning', { provider: this.provider, message: msg.message });
        return;
      case 'language':
        this.language = msg.language;
        return;
      case 'disconnect':
        if (this.state === 'ending' && this.eosSent) {
          this.deliverLastPartial();
          this.terminate();
        } else {
          this.fail(
            new ConnectionError('CONNECTION_LOST', 'WhisperLive ended the session (DISCONNECT: max_connection_time reached)', {
              provider: this.provider,
            }),
          );
        }
        return;
      case 'segments':
        this.onSegments(msg.segments, text);
        return;
      case 'ignored':
        return;
    }
  }

  private onSegments(segments: Parameters<SegmentTracker['update']>[0], frame: string): void {
    if (this.state !== 'open' && this.state !== 'ending') return;
    this.init.stats.updates++;
    const resent = this.tracker.resent;
    const changes = this.tracker.changes;
    const raw = this.init.includeRaw ? (JSON.parse(frame) as unknown) : undefined;
    for (const r of this.tracker.update(segments, raw, this.language)) this.emit(r);
    this.init.stats.segmentsResent += this.tracker.resent - resent;
    if (this.state === 'ending' && !this.eosSent && this.tracker.changes !== changes) this.armSettle();
  }

  private onClose(code: number): void {
    if (this.state === 'closed') return;
    if (this.state === 'handshake') {
      this.failHandshake(
        new ConnectionError('CONNECTION_FAILED', `WhisperLive closed the connection before SERVER_READY (close code ${code})`, {
          provider: this.provider,
        }),
      );
      return;
    }
    if (this.state === 'ending' && this.eosSent) {
      // the server's answer to END_OF_AUDIO: it does not flush, so the in-progress text is the last final
      this.deliverLastPartial();
      this.terminate();
      return;
    }
    this.fail(new ConnectionError('CONNECTION_LOST', `WhisperLive connection lost (close code ${code})`, { provider: this.provider }));
  }

  /** `util.inspect()` view: provider, costs, buffer, state; never the socket or options (they hold credentials). */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('WhisperLiveSession', this.toJSON(), depth, options, inspectFn);
  }

  /** `JSON.stringify()` view, as for `util.inspect()`. */
  toJSON(): Record<string, unknown> {
    return sessionView(this.provider, this, this.state === 'closed');
  }
}
