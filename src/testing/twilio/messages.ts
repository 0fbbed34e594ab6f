/**
 * Twilio Media Streams messages, as Twilio sends them, and validation of what a server sends back.
 *
 * Source: https://www.twilio.com/docs/voice/media-streams/websocket-messages. Every message is
 * JSON in a text frame; `sequenceNumber`, `chunk` and `timestamp` are strings.
 * @module
 * @internal
 */
import { randomBytes } from 'node:crypto';

/** A Twilio SID: two-letter prefix and 32 hex digits. */
export function randomSid(prefix: 'MZ' | 'CA' | 'AC'): string {
  return prefix + randomBytes(16).toString('hex');
}

/** The ids of one simulated stream. */
export interface StreamIds {
  streamSid: string;
  callSid: string;
  accountSid: string;
}

/** Builds the messages of one stream with a running `sequenceNumber`. */
export class TwilioMessageBuilder {
  private seq = 0;

  constructor(private readonly ids: StreamIds) {}

  private next(): string {
    return String(++this.seq);
  }

  connected(): string {
    return JSON.stringify({ event: 'connected', protocol: 'Call', version: '1.0.0' });
  }

  start(tracks: string[], customParameters: Record<string, string>): string {
    const { streamSid, callSid, accountSid } = this.ids;
    return JSON.stringify({
      event: 'start',
      sequenceNumber: this.next(),
      start: {
        accountSid,
        streamSid,
        callSid,
        tracks,
        customParameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
      streamSid,
    });
  }

  /** `chunk` counts from 1; `timestamp` is ms since the stream started. */
  media(chunk: number, timestampMs: number, payload: Uint8Array): string {
    return JSON.stringify({
      event: 'media',
      sequenceNumber: this.next(),
      media: {
        track: 'inbound',
        chunk: String(chunk),
        timestamp: String(Math.round(timestampMs)),
        payload: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'),
      },
      streamSid: this.ids.streamSid,
    });
  }

  dtmf(digit: string): string {
    return JSON.stringify({
      event: 'dtmf',
      streamSid: this.ids.streamSid,
      sequenceNumber: this.next(),
      dtmf: { track: 'inbound_track', digit },
    });
  }

  mark(name: string): string {
    return JSON.stringify({ event: 'mark', sequenceNumber: this.next(), streamSid: this.ids.streamSid, mark: { name } });
  }

  stop(): string {
    const { streamSid, callSid, accountSid } = this.ids;
    return JSON.stringify({ event: 'stop', sequenceNumber: this.next(), streamSid, stop: { accountSid, callSid } });
  }
}

/** A message a server may send on a bidirectional stream. */
export type ServerMessage =
  | { event: 'media'; payload: Uint8Array }
  | { event: 'mark'; name: string }
  | { event: 'clear'; streamSid: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Parse what a server sent, as Twilio would check it (error 31951: not JSON, unknown event, missing
 * field, wrong `streamSid`; 31924: a payload that is not base64 mu-law).
 */
export function parseServerMessage(text: string, streamSid: string): { ok: true; message: ServerMessage } | { ok: false; reason: string } {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (typeof m !== 'object' || m === null) return { ok: false, reason: 'not a JSON object' };
  const msg = m as { event?: unknown; streamSid?: unknown; media?: { payload?: unknown }; mark?: { name?: unknown } };
  if (msg.streamSid !== streamSid) return { ok: false, reason: `streamSid ${JSON.stringify(msg.streamSid)} is not this stream's` };
  switch (msg.event) {
    case 'media': {
      const p = msg.media?.payload;
      if (typeof p !== 'string' || !BASE64.test(p)) return { ok: false, reason: 'media.payload is not base64' };
      return { ok: true, message: { event: 'media', payload: Buffer.from(p, 'base64') } };
    }
    case 'mark': {
      const name = msg.mark?.name;
      if (typeof name !== 'string') return { ok: false, reason: 'mark.name is missing' };
      return { ok: true, message: { event: 'mark', name } };
    }
    case 'clear':
      return { ok: true, message: { event: 'clear', streamSid } };
    default:
      return { ok: false, reason: `unknown event ${JSON.stringify(msg.event)}` };
  }
}
