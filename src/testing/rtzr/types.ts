/**
 * Public types of the RTZR (VITO) streaming STT emulator.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ScriptCursor } from '../script-cursor.js';

/** Client credentials accepted by `POST /v1/authenticate`. */
export interface RtzrCredentials {
  /** `client_id` form field of the request. */
  clientId: string;
  /** `client_secret` form field of the request. */
  clientSecret: string;
}

/** Latency knobs, all in milliseconds. */
export interface RtzrLatency {
  /** Wall-clock delay before answering `POST /v1/authenticate`. Default 0. */
  authMs?: number;
  /** Wall-clock delay before completing the WebSocket upgrade (101). Default 0. */
  connectMs?: number;
  /** Wall-clock delay of every final result after its endpoint is decided. Default 0. */
  processingMs?: number;
  /** Audio time between two partial results during speech. Default 300. */
  partialIntervalMs?: number;
}

/** What {@link RtzrEmulatorOptions.scriptFor} gets to choose a per-connection script. */
export interface RtzrScriptInfo {
  /** 1-based id of the WebSocket connection (same as in `connectionsLog`). */
  connectionId: number;
  /** The upgrade request's query string. */
  query: URLSearchParams;
  /** The upgrade request's headers. */
  headers: IncomingHttpHeaders;
}

/** Options of {@link startRtzrEmulator}. */
export interface RtzrEmulatorOptions {
  /**
   * Ground-truth texts of the utterances the emulator's endpointer detects, in
   * order. Restarts at index 0 on every WebSocket connection (one connection =
   * one call). Utterances beyond the script get the text `'(unscripted)'`.
   * A {@link ScriptCursor} is shared instead: every connection (and every emulator given the same
   * cursor) continues where the call got to, which is what reconnect and fallback tests need.
   */
  script?: readonly string[] | ScriptCursor;
  /** Per-connection script override; return `undefined` to use {@link script}. */
  scriptFor?: (info: RtzrScriptInfo) => readonly string[] | ScriptCursor | undefined;
  /** Accepted credentials. Default `{ clientId: 'emulator-client-id', clientSecret: 'emulator-client-secret' }`. */
  credentials?: RtzrCredentials;
  /** Lifetime of issued tokens, in seconds. Default 21600 (6 h). */
  tokenLifetimeSec?: number;
  /** Concurrent WebSocket channels; one more is rejected with HTTP 429 `A0002`. Default 20. */
  maxConcurrent?: number;
  /** Latency knobs; see {@link RtzrLatency}. */
  latency?: RtzrLatency;
  /**
   * What the `start_at` of a final's words counts from: `'utterance'` (the utterance's start, as
   * RTZR's Korean WebSocket docs and TEN's live-tested client have it) or `'connection'` (the
   * connection's first audio byte, as the comments of RTZR's gRPC proto say). Default `'utterance'`.
   */
  wordTimes?: 'utterance' | 'connection';
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** Port to bind (e.g. to restart an emulator where its clients expect it). Default 0: a free port. */
  port?: number;
}

/** Live counters of an emulator. */
export interface RtzrEmulatorCounters {
  /** `POST /v1/authenticate` requests received. */
  authRequests: number;
  /** Authenticate requests answered with an error status (injected or real). */
  authFailures: number;
  /** Access tokens issued. */
  tokensIssued: number;
  /** WebSocket connections accepted (upgrade completed). */
  connections: number;
  /** WebSocket connections currently open. */
  openConnections: number;
  /** Upgrade requests rejected with an HTTP error or refused (socket destroyed). */
  rejectedConnections: number;
  /** Upgrade requests rejected with HTTP 429 `A0002` (over `maxConcurrent`, or injected). */
  rateLimitedConnections: number;
  /** Most WebSocket connections ever open at once (what RTZR's per-organisation channel cap counts). */
  peakOpenConnections: number;
  /** Audio bytes received, all connections. */
  audioBytes: number;
  /** Binary (audio) frames received, all connections. */
  framesReceived: number;
  /** Text frames sent (results, error frames, malformed frames). */
  messagesSent: number;
  /** Final results sent. */
  finalsSent: number;
}

/** One entry of {@link RtzrEmulator.connectionsLog}. */
export interface RtzrConnectionLogEntry {
  /** 1-based connection id. */
  id: number;
  /** The upgrade request's query parameters. */
  query: Record<string, string>;
  /** `Date.now()` when the upgrade completed. */
  openedAt: number;
  /** `Date.now()` when the socket closed. */
  closedAt?: number;
  /** WebSocket close code (1006 when the socket was terminated without a close frame). */
  closeCode?: number;
  /** Milliseconds of audio received on this connection (live). */
  audioMs: number;
}

/** HTTP statuses {@link RtzrFaults.failAuth} can inject. */
export type RtzrAuthFailureStatus = 400 | 401 | 500;
/** HTTP statuses {@link RtzrFaults.rejectConnections} can inject. */
export type RtzrRejectStatus = 401 | 429 | 500 | 503;

/** Extras of an injected upgrade rejection. */
export interface RtzrRejectOptions {
  /** Send a `Retry-After: <seconds>` header with the rejection. */
  retryAfterSec?: number;
}

/**
 * Fault injection, usable at any time while the emulator runs. Counted faults
 * (`times`) are consumed by the next matching events, on any connection.
 */
export interface RtzrFaults {
  /**
   * The next `times` authenticate requests fail with `status`
   * (400 `H0001`, 401 `H0002`, 500 `E500` `{"code":"E500","msg":"internal server error"}`).
   */
  failAuth(status: RtzrAuthFailureStatus, times?: number): void;
  /** The next `times` authenticate requests are never answered (until the emulator closes). */
  hangAuth(times?: number): void;
  /** Every token issued so far becomes expired: the next handshake with one gets HTTP 401 `H0002`. */
  expireTokens(): void;
  /**
   * The next `times` upgrade requests are rejected with `status` and an RTZR-style
   * `{code,msg}` body (401 `H0002`, 429 `A0002`, 500 `E500`, 503 `E503`), with a `Retry-After`
   * header when `options.retryAfterSec` is given.
   */
  rejectConnections(status: RtzrRejectStatus, times?: number, options?: RtzrRejectOptions): void;
  /** The next `times` upgrade requests get their TCP socket destroyed without any response. */
  refuseConnections(times?: number): void;
  /**
   * The next `times` connections to reach `ms` milliseconds of received audio are
   * terminated at that point without a close frame (like a network drop).
   */
  dropAfterAudioMs(ms: number, times?: number): void;
  /** Terminate every open connection now, without a close frame. */
  dropAll(): void;
  /**
   * While on, no result (partial or final) is sent on any connection; they are
   * discarded. Audio is still accepted, and `EOS` does not close the socket.
   */
  stall(on?: boolean): void;
  /**
   * The next `times` connections to reach `ms` milliseconds of received audio go silent from then
   * on: audio is still accepted and WebSocket pings answered, but no result is sent and `EOS` does
   * not close the socket (a server stuck mid-call, as seen from the client).
   */
  stallAfterAudioMs(ms: number, times?: number): void;
  /** The next `times` connections to receive `EOS` send nothing more (no remaining finals) and never close. */
  stallAfterEos(times?: number): void;
  /** The next `times` results are sent as a truncated (invalid) JSON text frame instead. */
  sendMalformed(times?: number): void;
  /** The next `times` results are replaced by `{"type":"error","message":"emulated server error"}`. */
  sendErrorFrame(times?: number): void;
  /** While on, after `EOS` the remaining finals are sent but the socket is never closed. */
  noCloseAfterEos(on?: boolean): void;
  /** Clear every fault (pending counts and switches). */
  reset(): void;
}

/** A running emulator. */
export interface RtzrEmulator {
  /** REST base, e.g. `http://127.0.0.1:PORT` (clients append `/v1/authenticate`). */
  readonly apiBase: string;
  /** WebSocket base, e.g. `ws://127.0.0.1:PORT` (clients append `/v1/transcribe:streaming`). */
  readonly websocketUrl: string;
  /** The accepted credentials. */
  readonly credentials: RtzrCredentials;
  /** Live counters. */
  readonly counters: RtzrEmulatorCounters;
  /** Fault injection. */
  readonly faults: RtzrFaults;
  /** Log of the last 1000 WebSocket connections, oldest first (entries update live). */
  readonly connectionsLog: RtzrConnectionLogEntry[];
  /** Change latency knobs; affects requests and endpoints decided from now on. */
  setLatency(latency: Partial<RtzrLatency>): void;
  /** Terminate every socket, clear every timer and close the server. Idempotent. */
  close(): Promise<void>;
}
