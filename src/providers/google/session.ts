/**
 * Utterance-mode Google session: the energy {@link Endpointer} (or
 * `finalize()`) cuts the audio into utterances (at most `maxUtteranceMs`
 * each), each one is sent to `speech:recognize` with a little pre-roll, and
 * the finals come back in utterance order whatever order the requests finish.
 * @module
 */
import { inspect, type InspectOptionsStylized } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import pRetry from 'p-retry';
import type { Dispatcher } from 'undici';
import { Endpointer, type EndpointerEvent } from '../../audio/endpointer.js';
import { bytesPerMs, type AudioFormat } from '../../audio/format.js';
import { decodeMulaw } from '../../audio/g711.js';
import { bytesAsInt16 } from '../../audio/pcm.js';
import { AbortError, ProviderError, type SttError, isSttError, toSttError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import type { EndOutcome, ProviderResult, ProviderSession, SessionCosts } from '../provider.js';
import { AudioWindow } from './audio-window.js';
import type { ResolvedGoogleOptions } from './options.js';
import { recognizeOnce, type RecognizeConfig, type RecognizedText } from './recognize.js';
import { inspectView, sessionView } from '../../inspection.js';

/** @internal */
export interface GoogleSessionInit {
  opts: ResolvedGoogleOptions;
  format: Required<AudioFormat>;
  language: string;
  costs: SessionCosts;
  dispatcher: Dispatcher;
  headers: () => Promise<Record<string, string>>;
  /**
   * A request was rejected with 401 using these headers: drop their OAuth2 token so the next
   * `headers()` fetches a new one. Returns false when there is nothing to refresh (an API key).
   */
  rejectedAuth?: (headers: Record<string, string>) => boolean;
  includeRaw: boolean;
  logger: Logger;
  onResult(result: ProviderResult): void;
  onError(error: SttError): void;
}

interface Pending {
  segment: number;
  startMs: number;
  endMs: number;
  /** Session ms of the request audio's first byte (words are relative to it). */
  audioStartMs: number;
  done: boolean;
  result?: RecognizedText;
}

/** @internal */
export class GoogleUtteranceSession implements ProviderSession {
  readonly costs: SessionCosts;
  readonly bufferedAmount = 0;
  private readonly endpointer: Endpointer;
  private readonly window = new AudioWindow();
  private readonly bpm: number;
  private readonly controller = new AbortController();
  private readonly config: RecognizeConfig;
  private scratch = new Int16Array(0);
  private utteranceFrom: number | undefined;
  private nextSegment = 0;
  private readonly pending: Pending[] = [];
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private closed = false;
  private failed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly init: GoogleSessionInit) {
    this.costs = init.costs;
    this.bpm = bytesPerMs(init.format);
    this.endpointer = new Endpointer({
      sampleRate: init.format.sampleRate,
      silenceMs: init.opts.silenceMs,
      maxUtteranceMs: init.opts.maxUtteranceMs,
    });
    this.config = {
      encoding: init.format.encoding === 'mulaw' ? 'MULAW' : 'LINEAR16',
      sampleRateHertz: init.format.sampleRate,
      languageCode: init.language,
      enableAutomaticPunctuation: init.opts.enableAutomaticPunctuation,
      maxAlternatives: init.opts.maxAlternatives,
      enableWordTimeOffsets: true,
    };
    if (init.opts.model !== undefined) this.config.model = init.opts.model;
    if (init.opts.useEnhanced !== undefined) this.config.useEnhanced = init.opts.useEnhanced;
  }

  send(audio: Uint8Array, onSent?: () => void): void {
    if (this.closed) {
      onSent?.();
      return;
    }
    this.window.append(audio);
    this.handle(this.endpointer.push(this.pcm(audio)));
    if (this.utteranceFrom === undefined) {
      this.window.trim(this.window.end - Math.round((this.init.opts.preRollMs + 1000) * this.bpm));
    }
    onSent?.();
  }

  finalize(): void {
    if (!this.closed) this.handle(this.endpointer.flush());
  }

  async end(timeoutMs: number): Promise<EndOutcome> {
    if (this.closed) return 'closed';
    this.handle(this.endpointer.flush());
    const idle = new Promise<EndOutcome>((resolve) => {
      if (this.pending.length === 0) resolve('closed');
      else this.idleWaiters.push(() => resolve('closed'));
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<EndOutcome>((resolve) => {
      timer = setTimeout(() => {
        this.init.logger.warn('google: recognize requests still running at end(); giving up on them', { timeoutMs });
        resolve('timeout');
      }, timeoutMs);
    });
    const outcome = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    this.abort();
    return outcome;
  }

  abort(): void {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    for (const w of this.waiting.splice(0)) {
      this.active++; // each woken waiter releases its slot when it sees the session closed
      w();
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private pcm(bytes: Uint8Array): Int16Array {
    if (this.init.format.encoding === 'linear16') return bytesAsInt16(bytes);
    if (this.scratch.length < bytes.byteLength) this.scratch = new Int16Array(Math.max(bytes.byteLength, 1024));
    return decodeMulaw(bytes, this.scratch);
  }

  private handle(events: readonly EndpointerEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'voicestart') {
        this.utteranceFrom = Math.max(0, this.toBytes(ev.startMs - this.init.opts.preRollMs));
        continue;
      }
      if (this.pending.length >= this.init.opts.maxPendingUtterances) {
        this.fail(
          new ProviderError(
            `Google is not keeping up: ${this.pending.length} utterances are waiting for their final (maxPendingUtterances)`,
            { provider: this.init.opts.id, retryable: true },
          ),
        );
        return;
      }
      const from = this.utteranceFrom ?? Math.max(0, this.toBytes(ev.startMs - this.init.opts.preRollMs));
      const to = this.window.end;
      const audio = this.window.slice(from, to);
      this.utteranceFrom = undefined;
      const p: Pending = {
        segment: this.nextSegment++,
        startMs: ev.startMs,
        endMs: ev.endMs,
        audioStartMs: from / this.bpm,
        done: false,
      };
      this.pending.push(p);
      void this.run(p, audio);
    }
  }

  private toBytes(ms: number): number {
    const b = Math.round(ms * this.bpm);
    const sample = this.init.format.encoding === 'linear16' ? 2 : 1;
    return b - (b % sample);
  }

  private async run(p: Pending, audio: Uint8Array): Promise<void> {
    await this.acquire();
    if (this.closed) {
      this.release();
      return;
    }
    try {
      let refreshed = false;
      let used: Record<string, string> = {};
      p.result = await pRetry(
        async () => {
          used = await this.init.headers();
          return recognizeOnce({
            provider: this.init.opts.id,
            url: `${this.init.opts.endpoint}/v1/speech:recognize`,
            headers: used,
            config: this.config,
            audio,
            timeoutMs: this.init.opts.requestTimeoutMs,
            dispatcher: this.init.dispatcher,
            signal: this.controller.signal,
          });
        },
        {
          retries: this.init.opts.retries,
          minTimeout: 200,
          factor: 2,
          randomize: true,
          signal: this.controller.signal,
          shouldRetry: ({ error }) => {
            if (this.closed || !isSttError(error)) return false;
            // A token rejected (revoked or expired early): refresh it once, then the rejection stands.
            if (error.status === 401 && !refreshed && this.init.rejectedAuth?.(used)) return (refreshed = true);
            // A wait longer than a request may take is the stream's to decide (fallback, or retry later).
            return error.retryable && (error.retryAfterMs ?? 0) <= this.init.opts.requestTimeoutMs;
          },
          onFailedAttempt: async ({ error, retriesLeft }) => {
            this.init.logger.debug('google: recognize attempt failed', {
              code: isSttError(error) ? error.code : 'PROVIDER_ERROR',
              retriesLeft,
            });
            // Retry-After: wait what the server asked for before the next attempt (p-retry adds its backoff)
            const wait = isSttError(error) ? (error.retryAfterMs ?? 0) : 0;
            if (retriesLeft > 0 && wait > 0 && wait <= this.init.opts.requestTimeoutMs && !this.closed) {
              await sleep(wait, undefined, { signal: this.controller.signal });
            }
          },
        },
      );
      p.done = true;
      this.deliver();
    } catch (err) {
      if (this.closed && !this.failed) return;
      this.fail(err instanceof Error && err.name === 'AbortError' ? new AbortError('aborted') : toSttError(err, this.init.opts.id));
    } finally {
      this.release();
    }
  }

  /** Take a request slot (granted synchronously when free, so same-tick callers cannot overshoot). */
  private acquire(): Promise<void> {
    if (this.active < this.init.opts.maxConcurrentRequests) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hand the slot to the next waiting request, or free it. */
  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }

  /** Deliver finished utterances in order. */
  private deliver(): void {
    while (this.pending[0]?.done) {
      const p = this.pending.shift()!;
      const r = p.result;
      if (r && !this.closed) {
        const result: ProviderResult = {
          type: 'final',
          segment: p.segment,
          text: r.text,
          startMs: p.startMs,
          endMs: p.endMs,
          words: r.words.map((w) => ({ ...w, startMs: w.startMs + p.audioStartMs, endMs: w.endMs + p.audioStartMs })),
        };
        if (r.confidence !== undefined) result.confidence = r.confidence;
        if (r.language !== undefined) result.language = r.language;
        if (this.init.includeRaw) result.raw = r.raw;
        this.init.onResult(result);
      }
    }
    if (this.pending.length === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private fail(error: SttError): void {
    if (this.failed) return;
    this.failed = true;
    const wasClosed = this.closed;
    this.abort();
    if (!wasClosed) this.init.onError(error);
  }

  /** `util.inspect()` view: provider, costs, buffer, state; never the socket or options (they hold credentials). */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('GoogleUtteranceSession', this.toJSON(), depth, options, inspectFn);
  }

  /** `JSON.stringify()` view, as for `util.inspect()`. */
  toJSON(): Record<string, unknown> {
    return sessionView(this.init.opts.id, this, this.closed);
  }
}
