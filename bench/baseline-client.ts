/**
 * The baseline: a client written the way the seeds' app worked, to compare
 * against in the same run.
 *
 * Per call it decodes the Twilio mu-law frames to PCM and runs an energy
 * endpointer (the shared `Endpointer`, 0.1 s of silence ends an utterance:
 * the seeds' `max_silence = 0.1`). Audio is buffered until then. Per utterance
 * it then does what `_transcribe_rtzr` did:
 *   1. `POST /v1/authenticate` for a new token (no cache, a new HTTP connection
 *      as `requests.post` makes),
 *   2. a new WebSocket,
 *   3. the buffered audio in chunks with `asyncio.sleep(0.01)` between them,
 *   4. `EOS`, then wait for the `final: true` result and close.
 * Nothing is sent while the caller speaks, partials are ignored.
 */
import http from 'node:http';
import WebSocket from 'ws';
import { decodeMulaw, Endpointer } from '../src/index.js';

export interface BaselineOptions {
  apiBase: string;
  websocketUrl: string;
  clientId: string;
  clientSecret: string;
  /** Silence that ends an utterance, ms. Default 100. */
  silenceMs?: number;
  /** Audio kept before the detected speech start, ms. Default 200. */
  prerollMs?: number;
  /** Bytes per WebSocket message when uploading an utterance. Default 3200 (200 ms of 8 kHz LINEAR16). */
  sendChunkBytes?: number;
  /** Pause between upload messages, ms. Default 10 (the seeds' `asyncio.sleep(0.01)`). */
  sendGapMs?: number;
}

export interface BaselineFinal {
  /** Utterance index in the call. */
  index: number;
  text: string;
  /** `performance.now()` when the final arrived. */
  at: number;
}

const SAMPLE_RATE = 8000;
const MAX_BUFFER_SAMPLES = SAMPLE_RATE * 60;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function authenticate(apiBase: string, clientId: string, clientSecret: string): Promise<string> {
  const body = new URLSearchParams({ client_id: clientId, client_secret: clientSecret }).toString();
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${apiBase}/v1/authenticate`,
      {
        method: 'POST',
        agent: false, // a new connection per request, like requests.post without a Session
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body) },
        timeout: 10_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`authenticate: HTTP ${res.statusCode}`));
          resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { access_token: string }).access_token);
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('authenticate timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

function openSocket(url: string, token: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false, handshakeTimeout: 10_000 });
    ws.on('error', () => {}); // a later error is followed by 'close', which waitFinal handles
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function waitFinal(ws: WebSocket, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no final within the timeout')), timeoutMs);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = JSON.parse(data.toString()) as { final?: boolean; alternatives?: { text?: string }[] };
      if (msg.final) {
        clearTimeout(timer);
        resolve(msg.alternatives?.[0]?.text ?? ''); // interim results are ignored, as the seeds did
      }
    });
    ws.once('close', () => {
      clearTimeout(timer);
      reject(new Error('socket closed before the final'));
    });
  });
}

/** One call of the baseline client. */
export class SeedsStyleCall {
  readonly stats = { tokenRequests: 0, sockets: 0, errors: 0 };
  private readonly endpointer: Endpointer;
  private readonly buffer = new Int16Array(MAX_BUFFER_SAMPLES);
  /** Samples in `buffer`, and the call position (samples) of buffer[0]. */
  private fill = 0;
  private base = 0;
  private utterances = 0;
  private readonly pending = new Set<Promise<void>>();
  private readonly o: Required<BaselineOptions>;

  constructor(
    options: BaselineOptions,
    private readonly onFinal: (f: BaselineFinal) => void,
  ) {
    this.o = { silenceMs: 100, prerollMs: 200, sendChunkBytes: 3200, sendGapMs: 10, ...options };
    this.endpointer = new Endpointer({ sampleRate: SAMPLE_RATE, silenceMs: this.o.silenceMs });
  }

  /** A Twilio media frame (8 kHz mu-law). */
  write(mulaw: Uint8Array): void {
    const pcm = decodeMulaw(mulaw);
    if (this.fill + pcm.length > this.buffer.length) {
      const drop = this.fill + pcm.length - this.buffer.length;
      this.buffer.copyWithin(0, drop, this.fill);
      this.fill -= drop;
      this.base += drop;
    }
    this.buffer.set(pcm, this.fill);
    this.fill += pcm.length;
    for (const ev of this.endpointer.push(pcm)) if (ev.type === 'voiceend') this.cut(ev.startMs);
  }

  /** End of call: cut what is left, wait for every utterance's final. */
  async end(): Promise<void> {
    for (const ev of this.endpointer.flush()) if (ev.type === 'voiceend') this.cut(ev.startMs);
    await Promise.all([...this.pending]);
  }

  private cut(startMs: number): void {
    const from = Math.max(this.base, Math.round(((startMs - this.o.prerollMs) * SAMPLE_RATE) / 1000));
    const audio = this.buffer.slice(from - this.base, this.fill);
    const index = this.utterances++;
    const p = this.transcribe(audio, index).catch(() => {
      this.stats.errors++;
    });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
  }

  private async transcribe(pcm: Int16Array, index: number): Promise<void> {
    this.stats.tokenRequests++;
    const token = await authenticate(this.o.apiBase, this.o.clientId, this.o.clientSecret);
    this.stats.sockets++;
    const ws = await openSocket(
      `${this.o.websocketUrl}/v1/transcribe:streaming?sample_rate=8000&encoding=LINEAR16&bench_utterance=${index}`,
      token,
    );
    try {
      const final = waitFinal(ws, 15_000);
      final.catch(() => {}); // awaited below; avoid an unhandled rejection while uploading
      const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      for (let off = 0; off < bytes.length; off += this.o.sendChunkBytes) {
        ws.send(bytes.subarray(off, Math.min(off + this.o.sendChunkBytes, bytes.length)));
        await sleep(this.o.sendGapMs);
      }
      ws.send('EOS');
      const text = await final;
      this.onFinal({ index, text, at: performance.now() });
    } finally {
      ws.terminate();
    }
  }
}
