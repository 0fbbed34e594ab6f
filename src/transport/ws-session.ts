/**
 * The part every WebSocket provider session shares (RTZR, Faster-Whisper,
 * WhisperLive): one state union, WebSocket pings, text decoding of `ws`
 * frames, close waiters, `end()` bounded by its timeout and resolving an
 * {@link EndOutcome}, `send()` after close still calling `onSent`, at most one
 * `onError`, no result after `abort()` or a failure, and an optional opening
 * phase (a server that must say "ready" before audio, as WhisperLive does).
 *
 * A provider session extends {@link WsSession} and keeps only its protocol:
 * how audio goes out ({@link WsSession.sendAudio}), what a text frame means
 * ({@link WsSession.onText}), how the end of audio is signalled
 * ({@link WsSession.beginEnd}) and which closes are clean
 * ({@link WsSession.isCleanClose}).
 *
 * States: `opening` (socket open, server not ready yet) → `open` (audio
 * flows) → `ending` (`end()` called: the protocol's end of audio, waiting for
 * the last results and the close) → `closed`. A failure or `abort()` goes to
 * `closed` from anywhere.
 * @module
 * @internal
 */
import { inspect, type InspectOptionsStylized } from 'node:util';
import WebSocket from 'ws';
import { AbortError, ConnectionError, type SttError, toSttError } from '../errors/index.js';
import { inspectView, sessionView } from '../inspection.js';
import type { Logger } from '../logger.js';
import type { EndOutcome, ProviderResult, ProviderSession, SessionCosts } from '../providers/provider.js';

/** The lifecycle of a session; see the module comment. */
export type WsSessionState = 'opening' | 'open' | 'ending' | 'closed';

/** ws copies its options, so one object serves every audio frame. */
const BINARY = Object.freeze({ binary: true });
/** How long a normal close (after everything was delivered) may take before the socket is terminated, ms. */
export const CLOSE_GRACE_MS = 2000;

/** A `ws` frame as text (UTF-8). */
export function frameText(data: WebSocket.RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}

/** What every session needs. */
export interface WsSessionInit {
  /** Provider id (set on errors). */
  provider: string;
  /** Name of the server in messages and logs (`'RTZR'`, `'WhisperLive'`). */
  label: string;
  /** An open socket (from `openWebSocket`). */
  ws: WebSocket;
  costs: SessionCosts;
  /** WebSocket ping interval while open, ms. */
  pingIntervalMs: number;
  logger: Logger;
  onResult(result: ProviderResult): void;
  onError(error: SttError): void;
  /**
   * Start in `opening`: the server must say it is ready ({@link WsSession.markOpen}) within
   * `timeoutMs`, else {@link WsSession.ready} rejects with `timeoutError()`.
   */
  opening?: { timeoutMs: number; timeoutError: () => SttError };
}

/** Base class of WebSocket provider sessions. @internal */
export abstract class WsSession implements ProviderSession {
  readonly costs: SessionCosts;
  /** Resolves once the session is `open`; rejects (the socket then closed) when it fails or is aborted while `opening`. */
  readonly ready: Promise<void>;
  protected readonly ws: WebSocket;
  protected readonly provider: string;
  protected readonly logger: Logger;
  private _state: WsSessionState;
  /** No result is delivered once set (abort, failure). */
  private silenced = false;
  private errorReported = false;
  /** We started a normal close (`closeGracefully`): the close that follows is clean. */
  private closeRequested = false;
  private endOutcome: EndOutcome = 'closed';
  private closeWaiters: ((outcome: EndOutcome) => void)[] = [];
  private ping: NodeJS.Timeout | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private openingTimer: NodeJS.Timeout | undefined;
  private closeGraceTimer: NodeJS.Timeout | undefined;
  private resolveReady: () => void = () => {};
  private rejectReady: (error: SttError) => void = () => {};

  constructor(private readonly base: WsSessionInit) {
    this.ws = base.ws;
    this.costs = base.costs;
    this.provider = base.provider;
    this.logger = base.logger;
    this._state = base.opening ? 'opening' : 'open';
    this.ready = new Promise<void>((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {}); // observed by the provider's connect(); never an unhandled rejection
    this.ws.on('message', (data, isBinary) => this.onFrame(data, isBinary));
    this.ws.on('close', (code) => this.onSocketClose(code));
    if (base.opening) {
      const { timeoutMs, timeoutError } = base.opening;
      this.openingTimer = setTimeout(() => this.fail(timeoutError()), timeoutMs);
    } else {
      this.startPing();
      this.resolveReady();
    }
  }

  /** The session's state. */
  get state(): WsSessionState {
    return this._state;
  }

  /**
   * What `util.inspect()` / `console.log()` show: provider, costs, buffered bytes, state; never the
   * socket or the options (the socket's upgrade request holds the access token).
   */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView(this.constructor.name, this.toJSON(), depth, options, inspectFn);
  }

  /** What `JSON.stringify()` shows, as for `util.inspect()`. */
  toJSON(): Record<string, unknown> {
    return { ...sessionView(this.provider, this, this._state === 'closed'), state: this._state };
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  /** Audio may go out now. */
  protected get writable(): boolean {
    return this._state === 'open' && this.ws.readyState === WebSocket.OPEN;
  }

  send(audio: Uint8Array, onSent?: () => void): void {
    if (!this.writable) {
      onSent?.();
      return;
    }
    this.sendAudio(audio, onSent);
  }

  /** Default: nothing to do (the protocol has no way to end an utterance early). */
  finalize(): void {}

  end(timeoutMs: number): Promise<EndOutcome> {
    if (this._state === 'closed') return Promise.resolve('closed'); // already closed (the contract's wording)
    if (this._state === 'opening') {
      this.terminate();
      return Promise.resolve('closed');
    }
    const done = new Promise<EndOutcome>((resolve) => this.closeWaiters.push(resolve));
    if (this._state === 'ending') return done;
    this._state = 'ending';
    this.endTimer = setTimeout(() => {
      this.endTimer = undefined;
      this.endOutcome = 'timeout';
      this.onEndTimeout(timeoutMs);
      this.terminate();
    }, timeoutMs);
    if (this.ws.readyState !== WebSocket.OPEN) {
      // the socket is already going away: its close event settles the session
      if (this.ws.readyState === WebSocket.CLOSED) this.terminate();
      return done;
    }
    try {
      this.beginEnd();
    } catch (err) {
      this.fail(toSttError(err, this.provider));
    }
    return done;
  }

  abort(): void {
    this.silenced = true;
    if (this._state === 'opening') this.rejectReady(new AbortError('stream aborted while connecting', { provider: this.provider }));
    this.terminate();
  }

  // ─────────────────────────── for subclasses ───────────────────────────

  /** Put audio on the wire (only called while writable). Default: one binary frame. */
  protected sendAudio(audio: Uint8Array, onSent?: () => void): void {
    this.ws.send(audio, BINARY, onSent ? () => onSent() : undefined);
  }

  /** A text frame. Throwing fails the session with the thrown error (wrapped in an `SttError`). */
  protected abstract onText(text: string): void;

  /** A binary frame. Default: ignored (the protocols send text). */
  protected onBinary(_data: Buffer): void {}

  /**
   * Signal the end of audio (`EOS`, padding, …); called once by `end()` with the socket open. The
   * session then ends by a clean close ({@link isCleanClose}), {@link closeGracefully},
   * {@link finishEnd}, or the end timeout.
   */
  protected abstract beginEnd(): void;

  /** Whether the server closing with `code` ends the session normally (e.g. RTZR's 1000 after `EOS`). Default false. */
  protected isCleanClose(_code: number): boolean {
    return false;
  }

  /** The error of an unexpected close. Default: `CONNECTION_LOST`. */
  protected closeError(code: number): SttError {
    return new ConnectionError('CONNECTION_LOST', `${this.base.label} connection lost (close code ${code})`, { provider: this.provider });
  }

  /** The end timeout fired (the session is terminated right after, and `end()` resolves `'timeout'`). */
  protected onEndTimeout(timeoutMs: number): void {
    this.logger.warn(`${this.base.label.toLowerCase()}: the session did not end within the end timeout; terminating`, {
      provider: this.provider,
      timeoutMs,
    });
  }

  /** Release the subclass's own timers (called once when the session closes). */
  protected dispose(): void {}

  /** Deliver a result, unless the session was aborted, failed or closed. */
  protected emit(result: ProviderResult): void {
    if (!this.silenced && this._state !== 'closed') this.base.onResult(result);
  }

  /** `opening` → `open`: start pinging, resolve {@link ready}. */
  protected markOpen(): void {
    if (this._state !== 'opening') return;
    this._state = 'open';
    if (this.openingTimer) clearTimeout(this.openingTimer);
    this.openingTimer = undefined;
    this.startPing();
    this.resolveReady();
  }

  /**
   * Everything was delivered: close the socket normally (1000). The session closes when the close
   * handshake completes, or after {@link CLOSE_GRACE_MS} without it (then terminated; `end()` still
   * resolves `'closed'`).
   */
  protected closeGracefully(reason?: string): void {
    if (this._state === 'closed' || this.closeRequested) return;
    this.closeRequested = true;
    if (this.ws.readyState !== WebSocket.OPEN) {
      if (this.ws.readyState !== WebSocket.CLOSING) this.terminate();
      return;
    }
    this.ws.close(1000, reason);
    this.closeGraceTimer = setTimeout(() => this.terminate(), CLOSE_GRACE_MS);
  }

  /** The session is done (everything delivered): terminate the socket without waiting for a close handshake. */
  protected finishEnd(): void {
    this.terminate();
  }

  /**
   * The session failed: close it, deliver nothing more, report `error` once (`onError`), or reject
   * {@link ready} while `opening`.
   */
  protected fail(error: SttError): void {
    if (this._state === 'closed') return;
    this.silenced = true;
    const opening = this._state === 'opening';
    this.terminate();
    if (opening) {
      this.rejectReady(error);
      return;
    }
    if (this.errorReported) return;
    this.errorReported = true;
    this.base.onError(error);
  }

  /** Close now, release everything, resolve `end()` waiters. Idempotent. */
  protected terminate(): void {
    if (this._state !== 'closed') {
      this._state = 'closed';
      this.release();
      this.ws.terminate();
    }
    this.flushWaiters();
  }

  // ─────────────────────────── internals ───────────────────────────

  private startPing(): void {
    this.ping = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
    }, this.base.pingIntervalMs);
  }

  private onFrame(data: WebSocket.RawData, isBinary: boolean): void {
    if (this._state === 'closed') return;
    try {
      if (isBinary) this.onBinary(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
      else this.onText(frameText(data));
    } catch (err) {
      this.fail(toSttError(err, this.provider));
    }
  }

  private onSocketClose(code: number): void {
    if (this._state === 'closed') {
      this.flushWaiters();
      return;
    }
    if (this._state === 'opening') {
      this.fail(
        new ConnectionError('CONNECTION_FAILED', `${this.base.label} closed the connection before it was ready (close code ${code})`, {
          provider: this.provider,
        }),
      );
      return;
    }
    if (this.closeRequested || this.isCleanClose(code)) {
      this._state = 'closed';
      this.release();
      this.flushWaiters();
      return;
    }
    this.fail(this.closeError(code));
  }

  private release(): void {
    if (this.ping) clearInterval(this.ping);
    if (this.endTimer) clearTimeout(this.endTimer);
    if (this.openingTimer) clearTimeout(this.openingTimer);
    if (this.closeGraceTimer) clearTimeout(this.closeGraceTimer);
    this.ping = this.endTimer = this.openingTimer = this.closeGraceTimer = undefined;
    this.dispose();
  }

  private flushWaiters(): void {
    const waiters = this.closeWaiters;
    this.closeWaiters = [];
    for (const w of waiters) w(this.endOutcome);
  }
}
