/**
 * Public types of the Google Speech-to-Text streaming (gRPC `StreamingRecognize`) emulator.
 * @module
 */
import type { Script } from '../script-cursor.js';

/** gRPC status codes the emulator can end a stream with (Google's canonical names). */
export type GoogleGrpcStatusName =
  | 'CANCELLED'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED';

/** Latency knobs, all in milliseconds. */
export interface GoogleStreamingLatency {
  /** Wall-clock delay of every final after the end of its utterance was heard. Default 0. */
  processingMs?: number;
  /** Audio between two interim results of an utterance. Default 300. */
  partialIntervalMs?: number;
}

/** Options of {@link startGoogleStreamingEmulator}. */
export interface GoogleStreamingEmulatorOptions {
  /**
   * Ground-truth texts of the utterances the emulator's endpointer detects, in order, across every
   * stream of the emulator (one cursor per emulator, as the REST emulator): a client that splits a
   * call over several gRPC streams (after `finalize()`, an idle stream, a reconnect) continues the
   * script. A line is used up only when its final was sent. Pass a {@link ScriptCursor} shared with
   * other emulators to continue a call after a fallback.
   */
  script?: Script;
  /** Latency knobs; see {@link GoogleStreamingLatency}. */
  latency?: GoogleStreamingLatency;
  /**
   * A stream lives this long (wall time from its first message), then ends with `OUT_OF_RANGE`
   * "Exceeded maximum allowed stream duration of N seconds." Default 305000 (Google's observed limit).
   */
  streamLimitMs?: number;
  /**
   * A stream that receives no audio for this long ends with `OUT_OF_RANGE` "Audio Timeout Error:
   * Long duration elapsed without audio." Default 10000.
   */
  audioTimeoutMs?: number;
  /**
   * How far a stream's audio may run ahead of wall time (since its first audio) before it ends with
   * `OUT_OF_RANGE` "Audio data is being streamed too fast." Google asks for audio "at a rate that
   * approximates real time" and publishes no tolerance; this is the emulator's. Default 5000.
   */
  maxAheadMs?: number;
  /** Largest audio payload of one request, bytes (Google: 25 KB). Default 25600. */
  maxAudioBytes?: number;
  /** Trailing silence that ends an utterance (the emulator's endpointer), ms. Default 500. */
  silenceMs?: number;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
}

/** Live counters of an emulator. */
export interface GoogleStreamingEmulatorCounters {
  /** `StreamingRecognize` calls started (v1 and v2). */
  streams: number;
  /** Calls open now. */
  openStreams: number;
  /** Most calls ever open at once. */
  maxOpenStreams: number;
  /** Request messages received (config and audio). */
  messages: number;
  /** Audio bytes received. */
  audioBytes: number;
  /** Response messages sent. */
  responses: number;
  /** Interim results sent. */
  partials: number;
  /** Final results sent. */
  finals: number;
  /** Calls ended with an error status (injected or by a rule). */
  errors: number;
}

/** One stream's first request, as received (the `streamingConfig`, and the v2 `recognizer`). */
export interface GoogleStreamingRequestLogEntry {
  /** API version of the stream (`google.cloud.speech.v1` or `v2` service). */
  version: 'v1' | 'v2';
  /** v2 only. */
  recognizer?: string;
  /** The `streamingConfig` of the first request, as decoded from protobuf. */
  streamingConfig: Record<string, unknown>;
}

/** One stream's end, as the client saw it. */
export interface GoogleStreamingStreamLogEntry {
  /** 1-based id, in the order streams started. */
  id: number;
  /** API version of the stream. */
  version: 'v1' | 'v2';
  /** Audio received, ms. */
  audioMs: number;
  /** Largest audio run-ahead over wall time seen on this stream, ms. */
  maxAheadMs: number;
  /** `'OK'` for a clean end (the client half-closed and every final was sent), else the error status. */
  status: 'OK' | GoogleGrpcStatusName;
  /** The status details (error message). */
  details?: string;
}

/** Fault injection, usable at any time. */
export interface GoogleStreamingFaults {
  /** The next `times` streams end with `status` right after their config message. */
  failStreams(status: GoogleGrpcStatusName, times?: number): void;
  /** The next `times` streams that reach `audioMs` of audio end with `status` (default `UNAVAILABLE`, mid-stream). */
  failAfterAudioMs(audioMs: number, status?: GoogleGrpcStatusName, times?: number): void;
  /** Clear every fault. */
  reset(): void;
}

/** A running emulator. */
export interface GoogleStreamingEmulator {
  /** `http://127.0.0.1:<port>`: pass as `GoogleProvider`'s `endpoint` (plaintext gRPC, no credentials). */
  readonly endpoint: string;
  /** Interface it listens on (default `127.0.0.1`). */
  readonly host: string;
  /** TCP port it listens on (random). */
  readonly port: number;
  /** Live counters (read them at any time). */
  readonly counters: GoogleStreamingEmulatorCounters;
  /** Fault injection. */
  readonly faults: GoogleStreamingFaults;
  /** The last streams' first requests (bounded, last 100). */
  readonly requests: readonly GoogleStreamingRequestLogEntry[];
  /** The last streams' outcomes (bounded, last 100), in the order they ended. */
  readonly streamsLog: readonly GoogleStreamingStreamLogEntry[];
  /**
   * Change the latency knobs from now on; omitted ones keep their value.
   * @throws {@link streaming-stt!ConfigurationError} for an invalid value (as the options').
   */
  setLatency(latency: GoogleStreamingLatency): void;
  /** Stop: end every open stream (`UNAVAILABLE`), close the server and every timer. Idempotent. */
  close(): Promise<void>;
}
