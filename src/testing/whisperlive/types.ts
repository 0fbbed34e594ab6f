/**
 * Public types of the WhisperLive emulator.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Latency knobs, all in milliseconds. */
export interface WhisperLiveLatency {
  /** Wall-clock delay before completing the WebSocket upgrade (101). Default 0. */
  connectMs?: number;
  /** Wall-clock delay between the options message and `SERVER_READY` (model loading). Default 0. */
  readyMs?: number;
  /** Wall-clock delay of every transcript update after its audio arrived. Default 0. */
  processingMs?: number;
}

/** What {@link WhisperLiveEmulatorOptions.scriptFor} gets to choose a per-connection script. */
export interface WhisperLiveScriptInfo {
  /** 1-based id of the connection (same as in `connectionsLog`). */
  connectionId: number;
  /** The client's options message. */
  options: Record<string, unknown>;
  headers: IncomingHttpHeaders;
}

/** Options of {@link startWhisperLiveEmulator}. */
export interface WhisperLiveEmulatorOptions {
  /**
   * Ground-truth texts of the utterances the emulator's endpointer detects, in order (restarting
   * on every connection). Each utterance becomes one segment. Beyond the script: `'(unscripted)'`.
   */
  script?: string[];
  /** Per-connection script override; return `undefined` to use {@link script}. */
  scriptFor?: (info: WhisperLiveScriptInfo) => string[] | undefined;
  /** Sessions served at once (`--max_clients`); one more gets `WAIT` and is closed. Default 4. */
  maxClients?: number;
  /** Require this key (`--api_key`) as `Authorization: Bearer` or `?token=`; else HTTP 401. Default: none. */
  apiKey?: string;
  /** Audio between two transcript updates, ms (the server transcribes once 1 s is buffered). Default 1000. */
  updateIntervalMs?: number;
  /**
   * Answer `END_OF_AUDIO` with a last update committing the open segment before closing. Default
   * false: like the current server code, close without transcribing what is left.
   */
  flushOnEndOfAudio?: boolean;
  /** Wall time after `SERVER_READY` before `DISCONNECT` and close (`--max_connection_time`), ms. Default 600000. */
  maxConnectionTimeMs?: number;
  /** Trailing silence that ends an utterance (commits its segment), ms. Default 500. */
  epdMs?: number;
  /** Latency knobs; see {@link WhisperLiveLatency}. */
  latency?: WhisperLiveLatency;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
}

/** Live counters of an emulator. */
export interface WhisperLiveEmulatorCounters {
  /** WebSocket connections accepted. */
  connections: number;
  /** WebSocket connections open now. */
  openConnections: number;
  /** Upgrades rejected (401 for a wrong API key, injected statuses) or refused. */
  rejectedConnections: number;
  /** `SERVER_READY` messages sent. */
  readySent: number;
  /** `WAIT` answers sent (server full). */
  waitsSent: number;
  /** `ERROR` messages sent. */
  errorsSent: number;
  /** `DISCONNECT` messages sent. */
  disconnectsSent: number;
  /** Audio bytes received, all connections. */
  audioBytes: number;
  /** Binary audio frames received (not counting `END_OF_AUDIO`). */
  framesReceived: number;
  /** `END_OF_AUDIO` frames received. */
  endOfAudioReceived: number;
  /** Text frames sent (all kinds). */
  messagesSent: number;
  /** Transcript updates (`segments` messages) sent. */
  updatesSent: number;
  /** Segments committed (`completed: true` for the first time). */
  segmentsCompleted: number;
  /** Committed segments sent again in a later update (the last N re-sent each time). */
  segmentsResent: number;
}

/** One entry of {@link WhisperLiveEmulator.connectionsLog}. */
export interface WhisperLiveConnectionLogEntry {
  id: number;
  /** The client's options message, once received. */
  options?: Record<string, unknown>;
  /** The upgrade request's `Authorization` header was present. */
  authorization: boolean;
  openedAt: number;
  closedAt?: number;
  /** WebSocket close code (1006 when terminated without a close frame). */
  closeCode?: number;
  /** Audio received, ms (live). */
  audioMs: number;
}

/** HTTP statuses {@link WhisperLiveFaults.rejectConnections} can inject. */
export type WhisperLiveRejectStatus = 401 | 403 | 500 | 503;

/** Fault injection, usable while the emulator runs. Counted faults are consumed by the next matching events. */
export interface WhisperLiveFaults {
  /** The next `times` upgrades get their TCP socket destroyed without a response. */
  refuseConnections(times?: number): void;
  /** The next `times` upgrades are rejected with `status`. */
  rejectConnections(status: WhisperLiveRejectStatus, times?: number): void;
  /** The next `times` sessions get `{status: "ERROR", message: "Failed to load model: …"}` instead of `SERVER_READY`, then close. */
  failModelLoad(times?: number): void;
  /** The next `times` sessions never get `SERVER_READY` (a model load that hangs). */
  neverReady(times?: number): void;
  /** The next `times` transcript updates are replaced by an `ERROR` message, and the socket closes. */
  sendError(times?: number): void;
  /** The next `times` connections to reach `ms` of audio get `DISCONNECT` and are closed. */
  disconnectAfterAudioMs(ms: number, times?: number): void;
  /** The next `times` connections to reach `ms` of audio are terminated without a close frame. */
  dropAfterAudioMs(ms: number, times?: number): void;
  /** Terminate every open connection now. */
  dropAll(): void;
  /** While on, no transcript update is sent (they are discarded). */
  stall(on?: boolean): void;
  /** The next `times` updates are sent as invalid JSON. */
  sendMalformed(times?: number): void;
  /** Clear every fault. */
  reset(): void;
}

/** A running emulator. */
export interface WhisperLiveEmulator {
  /** WebSocket URL, e.g. `ws://127.0.0.1:PORT` (any path is accepted). */
  readonly url: string;
  readonly counters: WhisperLiveEmulatorCounters;
  readonly faults: WhisperLiveFaults;
  /** The last 1000 connections, oldest first (entries update live). */
  readonly connectionsLog: WhisperLiveConnectionLogEntry[];
  /** Change latency knobs (affects what happens from now on). */
  setLatency(latency: Partial<WhisperLiveLatency>): void;
  /** Terminate every socket, clear every timer and close the server. Idempotent. */
  close(): Promise<void>;
}
