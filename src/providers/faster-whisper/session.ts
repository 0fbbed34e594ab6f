/**
 * One connection to a Faster-Whisper chunk server: float32 16 kHz frames out
 * (split to fit the server's message size limit), `{"text"}` replies in, the
 * endpointer run on the audio sent, silence padding on `finalize()` and
 * `end()` so the server transcribes the last chunk (the protocol has no flush
 * and no end-of-stream message).
 * @module
 * @internal
 */
import { inspect, type InspectOptionsStylized } from 'node:util';
import WebSocket from 'ws';
import { Endpointer } from '../../audio/endpointer.js';
import { bytesAsFloat32, float32ToPcm16 } from '../../audio/pcm.js';
import { ConnectionError, ProviderError, type SttError, toSttError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { SampleAligner, sendFrames, sendSilence } from '../../transport/binary-frames.js';
import type { EndOutcome, ProviderResult, ProviderSession, SessionCosts } from '../provider.js';
import { UtteranceAssembler, type AssemblerStats } from './assembler.js';
import { HallucinationFilter } from './hallucinations.js';
import { parseReply } from './messages.js';
import { FLOAT32_16K_BYTES_PER_MS, type ResolvedFasterWhisperOptions } from './options.js';
import { ChunkWindows, PaddedTimeline } from './timeline.js';
import { inspectView, sessionView } from '../../inspection.js';

/** Samples per ms at 16 kHz. */
const SAMPLES_PER_MS = 16;

/** Counters a session adds to (the provider's `stats`). @internal */
export interface SessionStats extends AssemblerStats {
  /** Silence sent to make the server transcribe the last chunk, ms. */
  paddingMs: number;
}

/** @internal */
export interface FasterWhisperSessionInit {
  ws: WebSocket;
  costs: SessionCosts;
  options: ResolvedFasterWhisperOptions;
  interimResults: boolean;
  includeRaw: boolean;
  stats: SessionStats;
  logger: Logger;
  onResult(result: ProviderResult): void;
  onError(error: SttError): void;
}

/** A session over one open socket. @internal */
export class FasterWhisperSession implements ProviderSession {
  readonly costs: SessionCosts;
  private readonly ws: WebSocket;
  private readonly provider: string;
  private readonly endpointer: Endpointer;
  private readonly windows: ChunkWindows;
  private readonly timeline = new PaddedTimeline();
  private readonly assembler: UtteranceAssembler;
  /** Largest binary frame sent, bytes (whole samples). */
  private readonly maxFrameBytes: number;
  private readonly ping: NodeJS.Timeout;
  private scratch = new Int16Array(1600);
  private readonly aligner = new SampleAligner(4);
  private streamSamples = 0;
  private serverSamples = 0;
  private ending = false;
  private closing = false;
  private closed = false;
  /** Set by abort() and failures: no result is delivered after. */
  private silenced = false;
  private expectedReplies = Number.POSITIVE_INFINITY;
  private endTimer: NodeJS.Timeout | undefined;
  private closeWaiters: (() => void)[] = [];
  /** How end() finished: `'timeout'` once its timer fired. */
  private endOutcome: EndOutcome = 'closed';

  constructor(private readonly init: FasterWhisperSessionInit) {
    const o = init.options;
    this.ws = init.ws;
    this.costs = init.costs;
    this.provider = o.id;
    this.windows = new ChunkWindows(o.chunkDurationMs, o.overlapDurationMs);
    this.maxFrameBytes = Math.min(o.chunkMs * FLOAT32_16K_BYTES_PER_MS, o.maxMessageBytes - (o.maxMessageBytes % 4));
    this.endpointer = new Endpointer({ sampleRate: 16000, ...o.endpointing });
    this.assembler = new UtteranceAssembler({
      provider: o.id,
      windows: this.windows,
      timeline: this.timeline,
      filter: new HallucinationFilter(o.hallucinations),
      maxOverlapWords: o.maxOverlapWords,
      interimResults: init.interimResults,
      includeRaw: init.includeRaw,
      stats: init.stats,
      logger: init.logger,
      emit: (r) => {
        if (!this.silenced) init.onResult(r);
      },
    });
    this.ping = setInterval(() => {
      if (this.ws.readyState === WebSocket.OPEN) this.ws.ping();
    }, o.pingIntervalMs);
    this.ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    this.ws.on('close', (code) => this.onClose(code));
  }

  get bufferedAmount(): number {
    return this.ws.bufferedAmount;
  }

  private get serverMs(): number {
    return this.serverSamples / SAMPLES_PER_MS;
  }

  private get streamMs(): number {
    return this.streamSamples / SAMPLES_PER_MS;
  }

  private get writable(): boolean {
    return !this.closed && !this.ending && this.ws.readyState === WebSocket.OPEN;
  }

  send(audio: Uint8Array, onSent?: () => void): void {
    if (!this.writable) {
      onSent?.();
      return;
    }
    const frame = this.aligner.align(audio);
    if (frame.length === 0) {
      onSent?.();
      return;
    }
    const samples = bytesAsFloat32(frame);
    if (this.scratch.length < samples.length) this.scratch = new Int16Array(samples.length);
    const events = this.endpointer.push(float32ToPcm16(samples, this.scratch));
    this.streamSamples += samples.length;
    this.serverSamples += samples.length;
    this.assembler.positionMs = this.streamMs;
    this.assembler.onEndpointer(events);
    sendFrames(this.ws, frame, this.maxFrameBytes, onSent);
  }

  finalize(): void {
    if (!this.writable) return;
    this.assembler.onEndpointer(this.endpointer.flush());
    if (!this.init.options.padOnFinalize) return;
    const end = this.assembler.lastClosedEnd;
    if (end === undefined) return;
    const need = this.windows.coverEnd(this.timeline.toServer(end));
    if (need > this.serverMs) this.pad(need - this.serverMs);
  }

  end(timeoutMs: number): Promise<EndOutcome> {
    if (this.closed && !this.ending) return Promise.resolve('closed');
    const done = new Promise<EndOutcome>((resolve) => this.closeWaiters.push(() => resolve(this.endOutcome)));
    if (this.ending) return done;
    this.ending = true;
    this.aligner.reset();
    this.assembler.onEndpointer(this.endpointer.flush());
    if (this.ws.readyState === WebSocket.OPEN) {
      const need = this.windows.coverEnd(this.serverMs);
      if (need > this.serverMs) this.pad(need - this.serverMs);
      this.expectedReplies = this.windows.countFor(this.serverMs);
    }
    this.endTimer = setTimeout(() => {
      this.init.logger.warn('faster-whisper: the last chunks were not answered within the end timeout; closing', {
        provider: this.provider,
        timeoutMs,
        replies: this.assembler.repliesReceived,
        expected: this.expectedReplies,
      });
      this.endOutcome = 'timeout';
      this.assembler.finishAll();
      this.terminate();
    }, timeoutMs);
    this.maybeFinishEnding();
    return done;
  }

  abort(): void {
    this.silenced = true;
    this.terminate();
  }

  /** Send `ms` of silence (zeros) that the stream never wrote, recording it on the timeline. */
  private pad(ms: number): void {
    const samples = Math.ceil(ms * SAMPLES_PER_MS - 1e-6);
    if (samples <= 0) return;
    this.timeline.addPad(this.streamMs, this.serverMs, samples / SAMPLES_PER_MS);
    this.serverSamples += samples;
    this.init.stats.paddingMs += samples / SAMPLES_PER_MS;
    sendSilence(this.ws, samples * 4, this.maxFrameBytes);
  }

  /** During `end()`: once every expected reply is in, deliver the finals and close the socket. */
  private maybeFinishEnding(): void {
    if (!this.ending || this.closing || this.closed) return;
    if (this.assembler.repliesReceived < this.expectedReplies && this.ws.readyState === WebSocket.OPEN) return;
    this.closing = true;
    this.assembler.settle();
    this.assembler.finishAll();
    if (this.ws.readyState === WebSocket.OPEN) this.ws.close(1000, 'end of audio');
    else this.terminate();
  }

  private terminate(): void {
    if (this.closed) {
      this.flushWaiters();
      return;
    }
    this.closed = true;
    this.cleanup();
    this.ws.terminate();
    this.flushWaiters();
  }

  private cleanup(): void {
    clearInterval(this.ping);
    if (this.endTimer) clearTimeout(this.endTimer);
    this.endTimer = undefined;
  }

  private flushWaiters(): void {
    const w = this.closeWaiters;
    this.closeWaiters = [];
    for (const f of w) f();
  }

  private fail(error: SttError): void {
    if (this.closed) return;
    this.closed = true;
    this.silenced = true;
    this.cleanup();
    this.ws.terminate();
    this.flushWaiters();
    this.init.onError(error);
  }

  private onMessage(data: WebSocket.RawData, isBinary: boolean): void {
    if (this.closed) return;
    if (isBinary) return; // the protocol has text replies only
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : data.toString();
    try {
      const reply = parseReply(this.provider, text);
      this.assembler.onReply(reply.text, reply.raw);
    } catch (err) {
      this.fail(toSttError(err, this.provider));
      return;
    }
    this.maybeFinishEnding();
  }

  private onClose(code: number): void {
    if (this.closed) {
      this.flushWaiters();
      return;
    }
    if (this.closing) {
      // our close after the last reply: the normal end
      this.closed = true;
      this.cleanup();
      this.flushWaiters();
      return;
    }
    // The server never closes on its own: before the last reply, this loses the last words.
    this.fail(
      code === 1009
        ? new ProviderError(
            'Faster-Whisper server closed the connection: a frame exceeded its message size limit (close 1009); lower chunkMs or maxMessageBytes',
            { provider: this.provider, retryable: false },
          )
        : new ConnectionError('CONNECTION_LOST', `Faster-Whisper connection lost (close code ${code})`, {
            provider: this.provider,
          }),
    );
  }

  /** `util.inspect()` view: provider, costs, buffer, state; never the socket or options (they hold credentials). */
  [inspect.custom](depth: number, options: InspectOptionsStylized, inspectFn: typeof inspect): string {
    return inspectView('FasterWhisperSession', this.toJSON(), depth, options, inspectFn);
  }

  /** `JSON.stringify()` view, as for `util.inspect()`. */
  toJSON(): Record<string, unknown> {
    return sessionView(this.provider, this, this.closed);
  }
}
