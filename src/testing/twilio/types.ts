/**
 * Public types of `simulateTwilioCall()`. Message shapes follow Twilio's Media Streams protocol:
 * https://www.twilio.com/docs/voice/media-streams/websocket-messages.
 * @module
 */
import type { AudioFormat } from '../../audio/format.js';

/**
 * Something to send during the call besides audio, at a point of the call's timeline.
 *
 * `atMs` is call time: milliseconds of audio already sent (the `timestamp` of the media frame it
 * precedes). Events at or beyond the end of the audio are sent after the last frame, before
 * `stop`. A negative `atMs` sends the event after `connected` and before `start`.
 *
 * - `{ atMs, dtmf }`: a `dtmf` message (`dtmf.digit`, `dtmf.track: 'inbound_track'`). Twilio sends
 *   these on bidirectional (`<Connect><Stream>`) streams only.
 * - `{ atMs, mark }`: a `mark` message with `mark.name` (as if Twilio echoed a mark the server sent).
 * - `{ atMs, raw }`: a frame sent verbatim (a string as a text frame, bytes as a binary frame),
 *   for testing how a server copes with malformed input.
 */
export type TwilioCallEvent =
  | {
      /** Call time to send it at, ms of audio sent (negative: before `start`). */
      atMs: number;
      /** The key pressed: one of `0`–`9`, `*`, `#`, `A`–`D`. */
      dtmf: string;
    }
  | {
      /** Call time to send it at, ms of audio sent (negative: before `start`). */
      atMs: number;
      /** `mark.name` of the mark message. */
      mark: string;
    }
  | {
      /** Call time to send it at, ms of audio sent (negative: before `start`). */
      atMs: number;
      /** The frame, sent verbatim: a string as a text frame, bytes as a binary frame. */
      raw: string | Uint8Array;
    };

/** Signing of the WebSocket handshake, as Twilio does when the account has an Auth Token. */
export interface TwilioSignatureOptions {
  /** The Auth Token (the HMAC key). Never logged or put in an error message. */
  authToken: string;
  /**
   * The URL Twilio signs: the `<Stream url>` of the TwiML, for example
   * `wss://example.ngrok.app/media-stream`. Default: the URL connected to. Set it when the
   * server is reached through a tunnel or proxy under another public URL.
   */
  url?: string;
}

/** Options of {@link simulateTwilioCall}. */
export interface SimulateTwilioCallOptions {
  /** WebSocket URL to connect to (`ws://` or `wss://`), e.g. `ws://127.0.0.1:8080/media-stream`. */
  url: string;
  /**
   * The caller's audio: WAV bytes in any format `readWav` reads (PCM16, float32, mu-law, A-law,
   * any sample rate), or raw samples when {@link SimulateTwilioCallOptions.format} is given.
   * Converted to 8 kHz mu-law (with the stateful `Resampler` when the rate differs), as Twilio sends it.
   */
  audio: Uint8Array | ArrayBuffer;
  /** Format of raw (headerless) `audio`. Omit for WAV bytes. */
  format?: AudioFormat;
  /**
   * Pacing: `1` (default) sends a frame every `frameMs` of wall time, as Twilio does; `10` is ten
   * times faster; `0` sends as fast as the socket takes it (still honouring its buffer).
   */
  speed?: number;
  /** Audio per `media` message, ms (multiple of 10 from 10 to 1000). Default 20 (160 mu-law bytes), as Twilio. */
  frameMs?: number;
  /** `start.streamSid` / `streamSid`. Default: a random `MZ` + 32 hex digits. */
  streamSid?: string;
  /** `start.callSid`. Default: a random `CA` + 32 hex digits. */
  callSid?: string;
  /** `start.accountSid`. Default: a random `AC` + 32 hex digits. */
  accountSid?: string;
  /** `start.tracks`. Default `['inbound']`. Audio is always sent on the `inbound` track. */
  tracks?: string[];
  /** `start.customParameters`: the `<Parameter>` values of the TwiML. Default `{}`. */
  customParameters?: Record<string, string>;
  /** DTMF, marks and raw frames to send during the call. */
  events?: TwilioCallEvent[];
  /** Sign the handshake with `X-Twilio-Signature`. */
  signature?: TwilioSignatureOptions;
  /** Extra handshake headers. */
  headers?: Record<string, string>;
  /**
   * Send `stop` at the end (default `true`). `false` closes the socket without `stop`, as when a
   * connection drops.
   */
  sendStop?: boolean;
  /**
   * Echo the `mark` messages the server sends once the `media` queued before them has "played"
   * (in real time divided by `speed`; at once when `speed` is 0), and on `clear` drop queued
   * media and echo every pending mark at once. Default `true`.
   */
  echoMarks?: boolean;
  /** Handshake timeout, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** After `stop`, how long to wait for the server to close the socket before closing it, ms. Default 10000. */
  closeTimeoutMs?: number;
  /** Outbound (server → caller) audio kept in the result, bytes. Default 8 MiB (about 17 minutes). */
  maxMediaBytes?: number;
  /** Aborts the call: the socket is terminated and the promise rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** A `mark` the server sent, or one the simulator echoed. */
export interface TwilioMarkRecord {
  /** `mark.name`. */
  name: string;
  /** Call time when it arrived (ms since `start` was sent, wall clock). */
  atMs: number;
}

/** What the server sent back. */
export interface TwilioReceived {
  /** Text frames received (all events, including invalid ones). */
  messages: number;
  /** `mark` messages, in order. */
  marks: TwilioMarkRecord[];
  /** `clear` messages, in order. */
  clears: {
    /** Call time when it arrived (ms since `start` was sent, wall clock). */
    atMs: number;
    /** The `streamSid` it named. */
    streamSid: string;
  }[];
  /** Outbound `media` (audio the server played to the caller). */
  media: {
    /** Outbound `media` messages received. */
    messages: number;
    /** mu-law bytes received in total. */
    bytes: number;
    /** The mu-law audio received, concatenated (at most `maxMediaBytes`; `bytes` counts all). */
    audio: Uint8Array;
  };
  /**
   * Frames Twilio would reject with error 31951 (not JSON, unknown event, missing `streamSid`,
   * a different `streamSid`, bad base64) or binary frames, with the reason (at most 100 kept).
   */
  invalid: {
    /** Call time when it arrived (ms since `start` was sent, wall clock). */
    atMs: number;
    /** What Twilio would object to. */
    reason: string;
  }[];
}

/** The outcome of {@link simulateTwilioCall}. */
export interface TwilioCallResult {
  /** The call's `streamSid` (given or generated, `MZ…`). */
  streamSid: string;
  /** The call's `callSid` (given or generated, `CA…`). */
  callSid: string;
  /** The call's `accountSid` (given or generated, `AC…`). */
  accountSid: string;
  /** What the simulator sent. */
  sent: {
    /** Text and binary frames sent, all kinds. */
    messages: number;
    /** `media` messages sent (one per `frameMs` of audio). */
    mediaFrames: number;
    /** Audio sent, ms (mu-law bytes / 8). */
    audioMs: number;
    /** Marks echoed back to the server. */
    marksEchoed: number;
    /** Whether `stop` was sent (false when `sendStop` is false or the server closed first). */
    stop: boolean;
  };
  /** What the server sent back. */
  received: TwilioReceived;
  /** Wall-clock timing, ms. */
  timing: {
    /** Handshake (connect to open). */
    connectMs: number;
    /** `start` sent to `stop` sent (or to the close). */
    streamMs: number;
    /** Connect to socket closed. */
    totalMs: number;
  };
  /** How the socket closed. */
  close: {
    /** WebSocket close code (1006 when the socket dropped without a close frame). */
    code: number;
    /** Close reason, UTF-8. */
    reason: string;
    /** Which side closed first. */
    initiatedBy: 'server' | 'client';
  };
}
