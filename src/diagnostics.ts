/**
 * `node:diagnostics_channel` events: what the library does on the network and
 * when a stream recovers, for APM tools and your own dashboards.
 *
 * Subscribe with Node's own API; nothing is built or published while a
 * channel has no subscriber (every publisher checks `channel.hasSubscribers`
 * first), so the cost when nobody listens is one property read.
 *
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * import { diagnosticsChannels } from 'streaming-stt';
 * diagnostics_channel.subscribe(diagnosticsChannels.connect, (msg) => console.log(msg));
 * ```
 *
 * Messages never contain access tokens, credentials or audio. Channels are
 * global by name, so two copies of the package publish on the same channels.
 * See docs/metrics.md.
 * @module
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import type { SttError } from './errors/index.js';

/** Channel names (stable). */
export const diagnosticsChannels = Object.freeze({
  /** A WebSocket handshake finished (ok or not), or a stream was handed a pre-warmed socket. {@link ConnectDiagnostic} */
  connect: 'streaming-stt:connect',
  /** An access-token request finished (ok or not). Cache hits publish nothing. {@link TokenDiagnostic} */
  token: 'streaming-stt:token',
  /** A stream reconnected to the same provider. {@link ReconnectDiagnostic} */
  reconnect: 'streaming-stt:reconnect',
  /** A stream switched provider mid-stream. {@link FallbackDiagnostic} */
  fallback: 'streaming-stt:fallback',
} as const);

/** An error as published: code and message only (messages never contain secrets). */
export interface DiagnosticError {
  /** The error's {@link SttErrorCode} (`'UNKNOWN'` for an error that is not an {@link SttError}). */
  code: string;
  /** The error's message. */
  message: string;
  /** HTTP status of a rejected request or handshake. */
  status?: number;
  /** The provider's own code (`H0002`, `A0002`, …). */
  providerCode?: string;
}

/** Message of `streaming-stt:connect`. */
export interface ConnectDiagnostic {
  /** Id of the provider connected to. */
  provider: string;
  /**
   * `'handshake'`: a WebSocket opening handshake finished (`ok` tells how).
   * `'prewarmed'`: a stream was handed an already-open pre-warmed socket (no handshake, `durationMs` 0).
   */
  kind: 'handshake' | 'prewarmed';
  /** The handshake opened a socket for the pre-warm pool (not for a waiting stream). */
  forPool: boolean;
  /** Whether the socket opened. */
  ok: boolean;
  /** Handshake wall time, ms (0 for `'prewarmed'`). */
  durationMs: number;
  /** 1, or 2 for the retry after a 401 forced a token refresh. */
  attempt: number;
  /** Wire format of the socket. */
  encoding: string;
  /** Hz. */
  sampleRate: number;
  /** Why the handshake failed (`ok: false`). */
  error?: DiagnosticError;
}

/** Message of `streaming-stt:token`. */
export interface TokenDiagnostic {
  /** Id of the provider whose token was requested. */
  provider: string;
  /** Whether a token was issued. */
  ok: boolean;
  /** Request wall time, ms. */
  durationMs: number;
  /** Time until the new token expires, ms (`ok: true`). */
  expiresInMs?: number;
  /** Why the request failed (`ok: false`). */
  error?: DiagnosticError;
}

/** Message of `streaming-stt:reconnect`. */
export interface ReconnectDiagnostic {
  /** Recognizer-local id of the stream (1, 2, 3… in creation order). */
  streamId: number;
  /** Id of the provider reconnected to. */
  provider: string;
  /** 1, 2, 3… counting the attempts of this outage (as the stream's `reconnect` event). */
  attempt: number;
  /** Time waited since the failure before this attempt, ms. */
  delayMs: number;
  /** The failure that caused it. */
  reason: DiagnosticError;
}

/** Message of `streaming-stt:fallback`. */
export interface FallbackDiagnostic {
  /** Recognizer-local id of the stream (1, 2, 3… in creation order). */
  streamId: number;
  /** Id of the provider the stream left. */
  from: string;
  /** Id of the provider that serves it now. */
  to: string;
  /** Audio replayed into the new provider, ms. */
  replayedMs: number;
  /** The failure that caused the switch. */
  reason: DiagnosticError;
}

/** The channels, held here so they stay alive. @internal */
export const channels = {
  connect: diagnosticsChannel.channel(diagnosticsChannels.connect),
  token: diagnosticsChannel.channel(diagnosticsChannels.token),
  reconnect: diagnosticsChannel.channel(diagnosticsChannels.reconnect),
  fallback: diagnosticsChannel.channel(diagnosticsChannels.fallback),
};

/** The publishable part of an error (never the cause, which may hold request details). @internal */
export function diagnosticError(err: unknown): DiagnosticError {
  const e = err as Partial<SttError> | undefined;
  const out: DiagnosticError = {
    code: typeof e?.code === 'string' ? e.code : 'UNKNOWN',
    message: typeof e?.message === 'string' ? e.message : String(err),
  };
  if (typeof e?.status === 'number') out.status = e.status;
  if (typeof e?.providerCode === 'string') out.providerCode = e.providerCode;
  return out;
}
