/**
 * Public types of the WhisperLive emulator.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ScriptCursor } from '../script-cursor.js';

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
  /** The upgrade request's HTTP headers. */
  headers: IncomingHttpHeaders;
}

/** Options of {@link startWhisperLiveEmulator}. */
export interface WhisperLiveEmulatorOptions {
  /**
   * Ground-truth texts of the utterances the emulator's endpointer detects, in order (restarting
   * on every connection). Each utterance becomes one segment. Beyond the script: `'(unscripted)'`.
   * An empty line is an utterance the server does not hear at all (its VAD dropped it): no
   * segment, no update. A {@link ScriptCursor} is shared instead: every connection continues where the call got to
   * (a line is delivered once an update carrying its committed segment was written out), which is
   * what reconnect and fallback tests need.
   */
  script?: readonly string[] | ScriptCursor;
  /** Per-connection script override; return `undefined` to use {@link script}. */
  scriptFor?: (info: WhisperLiveScriptInfo) => readonly string[] | ScriptCursor | undefined;
  /** Sessions served at once (`--max_clients`); one more gets `WAIT` and is closed. Default 4. */
  maxClients?: number;
  /** Require this key (`--api_key`) as `Authorization: Bearer` or `?token=`; else HTTP 401. Default: none. */
  apiKey?: string;
  /**
   * Audio between two transcript updates, ms. Default 1000. Ignored with {@link modelPassMs}.
   * In this default mode a segment is committed as soon as the emulator's endpointer closes its
   * utterance (`epdMs` of silence): a fast, idealised server.
   */
  updateIntervalMs?: number;
  /**
   * Run the real server's transcription loop instead (collabora/WhisperLive `backend/base.py`):
   * passes back to back, each over the audio after the last committed segment (once at least
   * {@link minAudioMs} of it is buffered), taking this much wall time (the model), ms; every
   * segment but the last is committed; the last one stays in progress until the next utterance
   * starts, or after `same_output_threshold` identical passes (the client's option, default 10);
   * a window without speech gives no update. Observed with the real server and a stand-in model
   * of 2.5 s per pass: the first result comes 1 s of audio plus up to two passes after the speech
   * starts, and the last utterance of a call is never committed. Default: off.
   */
  modelPassMs?: number;
  /** With {@link modelPassMs}: audio a pass needs after the last committed segment, ms (the server's 1 s). Default 1000. */
  minAudioMs?: number;
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
  /** 1-based connection id. */
  id: number;
  /** The client's options message, once received. */
  options?: Record<string, unknown>;
  /** The upgrade request's `Authorization` header was present. */
  authorization: boolean;
  /** `Date.now()` when the upgrade completed. */
  openedAt: number;
  /** `Date.now()` when the socket closed. */
  closedAt?: number;
  /** WebSocket close code (1006 when terminated without a close frame). */
  closeCode?: number;
  /** Audio received, ms (live). */
  audioMs: number;
  /**
   * With `modelPassMs`: the audio window of each model pass, ms, and whether its result was
   * discarded because `END_OF_AUDIO` (or the close) came while it ran (the last 1000).
   */
  passes?: {
    /** Start of the pass's audio window, ms of the connection's audio. */
    fromMs: number;
    /** End of the window, same clock. */
    toMs: number;
    /** The result was thrown away (the client ended or closed while the pass ran). */
    discarded: boolean;
  }[];
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
  /** Live counters (read them at any time). */
  readonly counters: WhisperLiveEmulatorCounters;
  /** Fault injection. */
  readonly faults: WhisperLiveFaults;
  /** The last 1000 connections, oldest first (entries update live). */
  readonly connectionsLog: WhisperLiveConnectionLogEntry[];
  /** Change latency knobs (affects what happens from now on). */
  setLatency(latency: Partial<WhisperLiveLatency>): void;
  /** Terminate every socket, clear every timer and close the server. Idempotent. */
  close(): Promise<void>;
}
