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
  /** Latency knobs, ms. Defaults 0. */
  latency?: {
    /** Delay of each recognize reply, ms. */
    processingMs?: number;
    /** Delay of each OAuth2 token reply, ms. */
    authMs?: number;
  };
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
}

/** What {@link GoogleEmulatorOptions.scriptFor} gets to choose a per-request script. */
export interface GoogleScriptInfo {
  /** `config.languageCode` of the request, as sent. */
  languageCode: string;
  /** The request's HTTP headers. */
  headers: IncomingHttpHeaders;
}

/** Live counters. */
export interface GoogleEmulatorCounters {
  /** `speech:recognize` requests received. */
  recognizeRequests: number;
  /** Requests answered with results (non-empty). */
  recognized: number;
  /** Requests answered with an error status (injected or validation). */
  failures: number;
  /** OAuth2 token requests received (service-account JWT grants). */
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
  readonly serviceAccount: {
    /** The service account's e-mail. */
    client_email: string;
    /** PEM private key. */
    private_key: string;
    /** This emulator's token endpoint. */
    token_uri: string;
  };
  /** Live counters (read them at any time). */
  readonly counters: GoogleEmulatorCounters;
  /** Fault injection. */
  readonly faults: GoogleFaults;
  /** The last requests' `config` objects (bounded, last 100). */
  readonly requests: readonly Record<string, unknown>[];
  /**
   * Change the latency knobs (as {@link GoogleEmulatorOptions.latency}) from now on; omitted ones keep their value.
   * @throws {@link streaming-stt!ConfigurationError} for a value that is not a number >= 0.
   */
  setLatency(latency: { processingMs?: number; authMs?: number }): void;
  /** Close the server, every socket and timer. Idempotent. */
  close(): Promise<void>;
}
