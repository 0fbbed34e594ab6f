/**
 * Public types of the Google Speech-to-Text (REST v1 `speech:recognize`) emulator.
 * @module
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { ScriptCursor } from '../script-cursor.js';

/** Options of {@link startGoogleEmulator}. */
export interface GoogleEmulatorOptions {
  /**
   * Ground-truth texts of the utterances it hears, in order, across all requests (one cursor per
   * emulator). Pass the same {@link ScriptCursor} as the RTZR emulator's to continue a call after a fallback.
   */
  script?: readonly string[] | ScriptCursor;
  /**
   * Per-request script override, chosen from the request's `config.languageCode` (a BCP-47 private-use
   * subtag such as `ko-KR-x-call7` tells concurrent calls apart) or its headers; return `undefined` to use
   * {@link script}. A returned array gets one cursor of its own (kept for that array object).
   */
  scriptFor?: (info: GoogleScriptInfo) => readonly string[] | ScriptCursor | undefined;
  /** Accepted API key (`x-goog-api-key` header or `?key=`). Default `'emulator-api-key'`. */
  apiKey?: string;
  /** Lifetime of issued OAuth2 tokens, seconds. Default 3600. */
  tokenLifetimeSec?: number;
  /** Latency knobs, ms: `processingMs` delays each recognize reply, `authMs` each token reply. Defaults 0. */
  latency?: { processingMs?: number; authMs?: number };
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
}

/** What {@link GoogleEmulatorOptions.scriptFor} gets to choose a per-request script. */
export interface GoogleScriptInfo {
  /** `config.languageCode` of the request, as sent. */
  languageCode: string;
  headers: IncomingHttpHeaders;
}

/** Live counters. */
export interface GoogleEmulatorCounters {
  recognizeRequests: number;
  /** Requests answered with results (non-empty). */
  recognized: number;
  /** Requests answered with an error status (injected or validation). */
  failures: number;
  tokenRequests: number;
  /** Audio bytes received (decoded from base64). */
  audioBytes: number;
  /** Recognize requests being processed now. */
  inFlight: number;
  /** Most recognize requests ever processed at once. */
  maxInFlight: number;
}

/** Google canonical error statuses the emulator can inject, by HTTP status. */
export type GoogleFaultStatus = 400 | 401 | 403 | 429 | 500 | 503;

/** Fault injection, usable at any time. */
export interface GoogleFaults {
  /**
   * The next `times` recognize requests fail with `status` and a `google.rpc.Status` body, with a
   * `Retry-After: <retryAfterSec>` header when given.
   */
  failRecognize(status: GoogleFaultStatus, times?: number, options?: { retryAfterSec?: number }): void;
  /** Every OAuth2 token issued so far becomes invalid (revoked): requests with one get 401. */
  revokeTokens(): void;
  /** The next `times` recognize requests are never answered (until close). */
  hangRecognize(times?: number): void;
  /** The next `times` recognize requests get their TCP socket destroyed. */
  dropRecognize(times?: number): void;
  /** The next `times` token requests fail with HTTP 400 `invalid_grant`. */
  failToken(times?: number): void;
  /** Clear every fault. */
  reset(): void;
}

/** A running emulator. */
export interface GoogleEmulator {
  /** Base URL (pass as `GoogleProvider`'s `endpoint`). */
  readonly endpoint: string;
  /** The accepted API key. */
  readonly apiKey: string;
  /** A service-account key whose `token_uri` points at this emulator (its own RSA key pair). */
  readonly serviceAccount: { client_email: string; private_key: string; token_uri: string };
  readonly counters: GoogleEmulatorCounters;
  readonly faults: GoogleFaults;
  /** The last requests' `config` objects (bounded, last 100). */
  readonly requests: readonly Record<string, unknown>[];
  setLatency(latency: { processingMs?: number; authMs?: number }): void;
  /** Close the server, every socket and timer. Idempotent. */
  close(): Promise<void>;
}
