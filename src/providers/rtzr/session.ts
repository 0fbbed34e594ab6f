/**
 * One RTZR WebSocket: opened with `Authorization: Bearer <token>`, audio as
 * binary frames, `{"type":"Finalize"}` to end an utterance early, `EOS` to end
 * the stream (the server sends the remaining finals, then closes with 1000).
 * Sources: https://developers.rtzr.ai/docs/en/stt-streaming/websocket ;
 * Finalize: https://developers.rtzr.ai/docs/en/stt-streaming/#ai-voice-agent (via LiveKit PR #7284).
 * @module
 */
import type WebSocket from 'ws';
import type { SttError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { openWebSocket } from '../../transport/open-websocket.js';
import { WsSession } from '../../transport/ws-session.js';
import type { ProviderResult, SessionCosts } from '../provider.js';
import { rtzrHttpError } from './errors.js';
import { parseRtzrFrame } from './messages.js';
import { WordTimeReader } from './word-times.js';

/** ws copies its options, so one object serves every audio frame. */
const BINARY = Object.freeze({ binary: true });

/**
 * Open the socket (the shared opener, with RTZR's `{code, msg}` mapping of a rejected handshake);
 * rejects with a typed error (`status` set for a rejected handshake, `retryAfterMs` from
 * `Retry-After`). @internal
 */
export function openRtzrSocket(
  provider: string,
  url: string,
  token: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<WebSocket> {
  return openWebSocket({
    provider,
    label: 'RTZR',
    url,
    headers: { Authorization: `Bearer ${token}` },
    timeoutMs,
    signal,
    rejectionError: ({ status, body, retryAfterMs }) => rtzrHttpError(provider, 'handshake', status, body, retryAfterMs),
  });
}

/** @internal */
export interface RtzrSessionInit {
  provider: string;
  ws: WebSocket;
  costs: SessionCosts;
  bytesPerMs: number;
  pingIntervalMs: number;
  includeRaw: boolean;
  logger: Logger;
  onResult(result: ProviderResult): void;
  onError(error: SttError): void;
}

/** A session over one open RTZR socket. @internal */
export class RtzrSession extends WsSession {
  private sentBytes = 0;
  private eosSent = false;
  /** Word times of finals, in the convention this connection uses. */
  private readonly wordTimes = new WordTimeReader();

  constructor(private readonly init: RtzrSessionInit) {
    super({ ...init, label: 'RTZR' });
  }

  override finalize(): void {
    if (this.writable) this.ws.send('{"type":"Finalize"}');
  }

  protected override sendAudio(audio: Uint8Array, onSent?: () => void): void {
    this.sentBytes += audio.byteLength;
    this.ws.send(audio, BINARY, onSent);
  }

  protected beginEnd(): void {
    this.eosSent = true;
    this.ws.send('EOS');
  }

  /** After `EOS` the server closes normally (1000) once it has sent the last finals. */
  protected override isCleanClose(code: number): boolean {
    // Anything else (1006: the connection dropped) may have cost finals: a lost connection either way.
    return this.eosSent && code === 1000;
  }

  protected override onEndTimeout(timeoutMs: number): void {
    this.logger.warn('rtzr: no close after EOS within the timeout; terminating', { provider: this.provider, timeoutMs });
  }

  protected onText(text: string): void {
    const result = parseRtzrFrame(this.provider, text, this.sentBytes / this.init.bytesPerMs, this.init.includeRaw, this.wordTimes);
    if (result) this.emit(result);
  }
}
