/**
 * One connection to a Faster-Whisper chunk server: float32 16 kHz frames out
 * (split to fit the server's message size limit), `{"text"}` replies in, the
 * endpointer run on the audio sent, silence padding on `finalize()` and
 * `end()` so the server transcribes the last chunk (the protocol has no flush
 * and no end-of-stream message).
 * @module
 * @internal
 */
import type WebSocket from 'ws';
import { Endpointer } from '../../audio/endpointer.js';
import { bytesAsFloat32, float32ToPcm16 } from '../../audio/pcm.js';
import { ProviderError, type SttError } from '../../errors/index.js';
import type { Logger } from '../../logger.js';
import { SampleAligner, sendFrames, sendSilence } from '../../transport/binary-frames.js';
import { WsSession } from '../../transport/ws-session.js';
import type { ProviderResult, SessionCosts } from '../provider.js';
import { UtteranceAssembler, type AssemblerStats } from './assembler.js';
import { HallucinationFilter } from './hallucinations.js';
import { parseReply } from './messages.js';
import { FLOAT32_16K_BYTES_PER_MS, type ResolvedFasterWhisperOptions } from './options.js';
import { ChunkWindows, PaddedTimeline } from './timeline.js';

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
export class FasterWhisperSession extends WsSession {
  private readonly endpointer: Endpointer;
  private readonly windows: ChunkWindows;
  private readonly timeline = new PaddedTimeline();
  private readonly assembler: UtteranceAssembler;
  /** Largest binary frame sent, bytes (whole samples). */
  private readonly maxFrameBytes: number;
  private scratch = new Int16Array(1600);
  private readonly aligner = new SampleAligner(4);
  private streamSamples = 0;
  private serverSamples = 0;
  /** The last replies are in and our close is under way. */
  private closing = false;
  private expectedReplies = Number.POSITIVE_INFINITY;

  constructor(private readonly init: FasterWhisperSessionInit) {
    const o = init.options;
    super({
      provider: o.id,
      label: 'Faster-Whisper',
      ws: init.ws,
      costs: init.costs,
      pingIntervalMs: o.pingIntervalMs,
      logger: init.logger,
      onResult: init.onResult,
      onError: init.onError,
    });
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
      emit: (r) => this.emit(r),
    });
  }

  private get serverMs(): number {
    return this.serverSamples / SAMPLES_PER_MS;
  }

  private get streamMs(): number {
    return this.streamSamples / SAMPLES_PER_MS;
  }

  protected override sendAudio(audio: Uint8Array, onSent?: () => void): void {
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

  override finalize(): void {
    if (!this.writable) return;
    this.assembler.onEndpointer(this.endpointer.flush());
    if (!this.init.options.padOnFinalize) return;
    const end = this.assembler.lastClosedEnd;
    if (end === undefined) return;
    const need = this.windows.coverEnd(this.timeline.toServer(end));
    if (need > this.serverMs) this.pad(need - this.serverMs);
  }

  protected beginEnd(): void {
    this.aligner.reset();
    this.assembler.onEndpointer(this.endpointer.flush());
    const need = this.windows.coverEnd(this.serverMs);
    if (need > this.serverMs) this.pad(need - this.serverMs);
    this.expectedReplies = this.windows.countFor(this.serverMs);
    this.maybeFinishEnding();
  }

  /**
   * The last chunks were not answered in time: the utterances still waiting for them end with the
   * session, undelivered (their words may be incomplete; the stream recovers that audio), and
   * `end()` resolves `'timeout'`.
   */
  protected override onEndTimeout(timeoutMs: number): void {
    this.logger.warn('faster-whisper: the last chunks were not answered within the end timeout; closing', {
      provider: this.provider,
      timeoutMs,
      replies: this.assembler.repliesReceived,
      expected: this.expectedReplies,
    });
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
    if (this.state !== 'ending' || this.closing) return;
    if (this.assembler.repliesReceived < this.expectedReplies) return;
    this.closing = true;
    this.assembler.settle();
    this.assembler.finishAll();
    this.closeGracefully('end of audio');
  }

  protected onText(text: string): void {
    const reply = parseReply(this.provider, text);
    this.assembler.onReply(reply.text, reply.raw, reply.segments);
    this.maybeFinishEnding();
  }

  /** The server never closes on its own: before the last reply, this loses the last words. */
  protected override closeError(code: number): SttError {
    if (code !== 1009) return super.closeError(code);
    return new ProviderError(
      'Faster-Whisper server closed the connection: a frame exceeded its message size limit (close 1009); lower chunkMs or maxMessageBytes',
      { provider: this.provider, retryable: false },
    );
  }
}
