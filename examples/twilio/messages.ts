/**
 * Parsing of the messages Twilio sends on a Media Streams WebSocket.
 *
 * Shapes: https://www.twilio.com/docs/voice/media-streams/websocket-messages. Every message is
 * JSON in a text frame; `sequenceNumber`, `chunk` and `timestamp` are strings. Anything that does
 * not fit is reported with a reason, never thrown: one bad message must not end a call.
 */

/** `start.mediaFormat`. Twilio documents `audio/x-mulaw`, 8000 Hz, mono. */
export interface MediaFormat {
  encoding: string;
  sampleRate: number;
  channels: number;
}

/** A message from Twilio, checked. */
export type TwilioMessage =
  | { event: 'connected' }
  | {
      event: 'start';
      streamSid: string;
      callSid: string;
      accountSid: string;
      tracks: string[];
      customParameters: Record<string, string>;
      mediaFormat: MediaFormat;
    }
  | { event: 'media'; streamSid: string; track: string; chunk: number; timestamp: number; payload: Buffer }
  | { event: 'mark'; streamSid: string; name: string }
  | { event: 'dtmf'; streamSid: string; digit: string }
  | { event: 'stop'; streamSid: string };

export type ParseResult = { ok: true; message: TwilioMessage } | { ok: false; reason: string };

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown): x is string => typeof x === 'string' && x.length > 0;

/** Parse one text frame. */
export function parseTwilioMessage(text: string): ParseResult {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!isObj(m)) return { ok: false, reason: 'not a JSON object' };
  const event = m.event;
  if (event === 'connected') return { ok: true, message: { event } };
  if (!str(m.streamSid)) {
    return { ok: false, reason: typeof event === 'string' ? `${event} without streamSid` : 'no event' };
  }
  const streamSid = m.streamSid;
  switch (event) {
    case 'start': {
      const s = m.start;
      if (!isObj(s) || !str(s.callSid)) return { ok: false, reason: 'start without start.callSid' };
      const f = isObj(s.mediaFormat) ? s.mediaFormat : {};
      const params: Record<string, string> = {};
      if (isObj(s.customParameters)) {
        for (const [k, v] of Object.entries(s.customParameters)) if (typeof v === 'string') params[k] = v;
      }
      return {
        ok: true,
        message: {
          event,
          streamSid,
          callSid: s.callSid,
          accountSid: typeof s.accountSid === 'string' ? s.accountSid : '',
          tracks: Array.isArray(s.tracks) ? s.tracks.filter((t): t is string => typeof t === 'string') : ['inbound'],
          customParameters: params,
          mediaFormat: {
            encoding: typeof f.encoding === 'string' ? f.encoding : 'audio/x-mulaw',
            sampleRate: typeof f.sampleRate === 'number' ? f.sampleRate : 8000,
            channels: typeof f.channels === 'number' ? f.channels : 1,
          },
        },
      };
    }
    case 'media': {
      const md = m.media;
      if (!isObj(md)) return { ok: false, reason: 'media without media object' };
      const payload = md.payload;
      if (!str(payload) || payload.length % 4 !== 0 || !BASE64.test(payload)) {
        return { ok: false, reason: 'media.payload is not base64' };
      }
      return {
        ok: true,
        message: {
          event,
          streamSid,
          track: typeof md.track === 'string' ? md.track : 'inbound',
          chunk: Number(md.chunk),
          timestamp: Number(md.timestamp),
          payload: Buffer.from(payload, 'base64'),
        },
      };
    }
    case 'mark': {
      const mk = m.mark;
      if (!isObj(mk) || typeof mk.name !== 'string') return { ok: false, reason: 'mark without mark.name' };
      return { ok: true, message: { event, streamSid, name: mk.name } };
    }
    case 'dtmf': {
      const d = m.dtmf;
      if (!isObj(d) || typeof d.digit !== 'string') return { ok: false, reason: 'dtmf without dtmf.digit' };
      return { ok: true, message: { event, streamSid, digit: d.digit } };
    }
    case 'stop':
      return { ok: true, message: { event, streamSid } };
    default:
      return { ok: false, reason: `unknown event ${JSON.stringify(event)}`.slice(0, 80) };
  }
}
