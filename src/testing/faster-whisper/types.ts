/**
 * Public types of the Faster-Whisper chunk-server emulator.
 * @module
 */
import type { ScriptCursor } from '../script-cursor.js';
import type { IncomingHttpHeaders } from 'node:http';

/** Latency knobs, all in milliseconds. */
export interface FasterWhisperLatency {
  /** Wall-clock delay before completing the WebSocket upgrade (101). Default 0. */
  connectMs?: number;
  /** Wall-clock time each chunk takes to "transcribe" before its reply is sent. Default 0. */
  processingMs?: number;
}

/** What {@link FasterWhisperEmulatorOptions.scriptFor} gets to choose a per-connection script. */
export interface FasterWhisperScriptInfo {
  /** 1-based id of the connection (same as in `connectionsLog`). */
  connectionId: number;
  /** The upgrade request's path and query. */
  path: string;
  /** The upgrade request's HTTP headers. */
  headers: IncomingHttpHeaders;
}

/** Options of {@link startFasterWhisperEmulator}. */
export interface FasterWhisperEmulatorOptions {
  /**
   * Ground-truth texts of the utterances the emulator's endpointer detects, in order (restarting
   * on every connection). Utterances beyond the script get the text `'(unscripted)'`.
   */
  script?: readonly string[] | ScriptCursor;
  /** Per-connection script override; return `undefined` to use {@link script}. */
  scriptFor?: (info: FasterWhisperScriptInfo) => readonly string[] | ScriptCursor | undefined;
  /** The server's `chunk_duration`, ms: audio per transcription. Default 2000. */
  chunkDurationMs?: number;
  /** The server's `overlap_duration`, ms: audio kept as the start of the next chunk. Default 500. */
  overlapDurationMs?: number;
  /**
   * Say Whisper's stock phrases on chunks in which no scripted word is heard (silence): `true`
   * for the built-in Korean and English phrases (in turn), or the phrases to say. Default false
   * (`{"text": ""}` on silence, as with `vad_filter`).
   */
  hallucinate?: boolean | readonly string[];
  /**
   * Share of a word's duration that must lie inside a chunk for the chunk's transcription to
   * contain it (0 < x <= 0.5, so every word is heard at least once). Words cut by a chunk edge
   * are heard in both chunks when both hold at least this share. Default 0.4.
   */
  wordCoverage?: number;
  /**
   * Transcribe the words a chunk cuts as Whisper does: a word cut by the chunk's end comes out
   * mangled (two garbled tokens: its letters reversed, then "음"), a word cut by its start as the
   * part inside the chunk (its last letters). The next (or previous) chunk, which holds the word
   * whole, hears it right. Default false: cut words are heard whole in both chunks.
   */
  mangleEdges?: boolean;
  /**
   * Replies carry the segment and word times, as examples/faster-whisper/server.py sends them
   * (faster-whisper's `word_timestamps=True`): `{"text", "segments": [{"start", "end", "text",
   * "words": [{"word", "start", "end", "probability"}]}]}`, seconds from the chunk's start.
   * Default false: `{"text"}` only, like the seeds' server.
   */
  wordTimes?: boolean;
  /** Trailing silence that ends an utterance in the emulator's endpointer, ms. Default 500. */
  epdMs?: number;
  /** Largest message accepted, bytes; larger ones close the socket with 1009 (Python `websockets` `max_size`). Default 1048576. */
  maxMessageBytes?: number;
  /** Latency knobs; see {@link FasterWhisperLatency}. */
  latency?: FasterWhisperLatency;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
}

/** Live counters of an emulator. */
export interface FasterWhisperEmulatorCounters {
  /** WebSocket connections accepted. */
  connections: number;
  /** WebSocket connections open now. */
  openConnections: number;
  /** Upgrades rejected with an HTTP status or refused. */
  rejectedConnections: number;
  /** Audio bytes received (float32), all connections. */
  audioBytes: number;
  /** Binary frames received, all connections. */
  framesReceived: number;
  /** Text frames sent (replies, malformed and error frames). */
  messagesSent: number;
  /** Chunks transcribed (one reply each unless stalled). */
  chunksTranscribed: number;
  /** Words sent again because they were heard in the overlap of two chunks. */
  wordsResent: number;
  /** Stock hallucination phrases sent on silent chunks. */
  hallucinationsSent: number;
  /** Words sent mangled or cut because a chunk edge cut them (`mangleEdges`). */
  wordsMangled: number;
}

/** One entry of {@link FasterWhisperEmulator.connectionsLog}. */
export interface FasterWhisperConnectionLogEntry {
  /** 1-based connection id. */
  id: number;
  /** The upgrade request's path and query. */
  path: string;
  /** `Date.now()` when the upgrade completed. */
  openedAt: number;
  /** `Date.now()` when the socket closed. */
  closedAt?: number;
  /** WebSocket close code (1006 when terminated without a close frame). */
  closeCode?: number;
  /** Audio received on this connection, ms (live). */
  audioMs: number;
  /** Texts of the replies sent, in order (the last 1000). */
  replies: string[];
}

/** HTTP statuses {@link FasterWhisperFaults.rejectConnections} can inject. */
export type FasterWhisperRejectStatus = 401 | 403 | 500 | 503;

/** Fault injection, usable while the emulator runs. Counted faults are consumed by the next matching events. */
export interface FasterWhisperFaults {
  /** The next `times` upgrades get their TCP socket destroyed without a response. */
  refuseConnections(times?: number): void;
  /** The next `times` upgrades are rejected with `status`. */
  rejectConnections(status: FasterWhisperRejectStatus, times?: number): void;
  /** The next `times` connections to reach `ms` of audio are terminated there without a close frame. */
  dropAfterAudioMs(ms: number, times?: number): void;
  /** Terminate every open connection now, without a close frame. */
  dropAll(): void;
  /** While on, no reply is sent (chunks are transcribed and their replies discarded). */
  stall(on?: boolean): void;
  /** The next `times` replies are sent as invalid JSON. */
  sendMalformed(times?: number): void;
  /** The next `times` replies are replaced by `{"error": "emulated transcription failure"}`. */
  sendErrorReply(times?: number): void;
  /** Clear every fault. */
  reset(): void;
}

/** A running emulator. */
export interface FasterWhisperEmulator {
  /** WebSocket URL, e.g. `ws://127.0.0.1:PORT` (any path is accepted). */
  readonly url: string;
  /** The chunk duration it uses, ms (configure the provider with the same). */
  readonly chunkDurationMs: number;
  /** The overlap it uses, ms. */
  readonly overlapDurationMs: number;
  /** Live counters (read them at any time). */
  readonly counters: FasterWhisperEmulatorCounters;
  /** Fault injection. */
  readonly faults: FasterWhisperFaults;
  /** The last 1000 connections, oldest first (entries update live). */
  readonly connectionsLog: FasterWhisperConnectionLogEntry[];
  /** Change latency knobs (affects upgrades and chunks from now on). */
  setLatency(latency: Partial<FasterWhisperLatency>): void;
  /** Terminate every socket, clear every timer and close the server. Idempotent. */
  close(): Promise<void>;
}
