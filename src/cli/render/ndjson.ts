/**
 * NDJSON output: one JSON object per line on stdout, with a `type` and the
 * library's own field names, plus `elapsedMs` (wall time since the run
 * started). Made for `jq`; the field names are stable (docs/cli.md).
 * @module
 */
import type { SttError } from '../../errors/index.js';
import type { FallbackEvent, ReconnectEvent, StreamSummary, Transcript, UtteranceMetrics } from '../../stream/types.js';
import type { RunInfo, TranscribeRenderer } from './renderer.js';

const errorFields = (e: SttError) => ({ code: e.code, message: e.message, ...(e.provider ? { provider: e.provider } : {}) });

const transcript = (t: Transcript) => ({
  type: t.type,
  utteranceId: t.utteranceId,
  text: t.text,
  startMs: t.startMs,
  endMs: t.endMs,
  provider: t.provider,
  ...(t.latencyMs !== undefined ? { latencyMs: t.latencyMs } : {}),
  ...(t.confidence !== undefined ? { confidence: t.confidence } : {}),
  ...(t.language !== undefined ? { language: t.language } : {}),
  ...(t.words ? { words: t.words } : {}),
});

/** One JSON object per event, through `write` (stdout). */
export class NdjsonRenderer implements TranscribeRenderer {
  private readonly t0 = performance.now();

  constructor(private readonly write: (line: string) => void) {}

  private emit(obj: Record<string, unknown>): void {
    this.write(`${JSON.stringify({ ...obj, elapsedMs: Math.round(performance.now() - this.t0) })}\n`);
  }

  start(info: RunInfo): void {
    this.emit({
      type: 'start',
      input: info.input,
      audio: { encoding: info.format.encoding, sampleRate: info.format.sampleRate },
      durationMs: info.durationMs ?? null,
      providers: info.providers,
      emulated: info.emulated,
      speed: info.speed ?? null,
      finalizeOnSilenceMs: info.finalizeOnSilenceMs ?? null,
    });
  }
  progress(): void {}
  open(provider: string): void {
    this.emit({ type: 'open', provider });
  }
  partial(t: Transcript): void {
    this.emit(transcript(t));
  }
  final(t: Transcript): void {
    this.emit(transcript(t));
  }
  metrics(m: UtteranceMetrics): void {
    this.emit({ type: 'metrics', ...m });
  }
  reconnect(ev: ReconnectEvent): void {
    this.emit({ type: 'reconnect', provider: ev.provider, attempt: ev.attempt, delayMs: ev.delayMs, reason: errorFields(ev.reason) });
  }
  fallback(ev: FallbackEvent): void {
    this.emit({ type: 'fallback', from: ev.from, to: ev.to, replayedMs: ev.replayedMs, reason: errorFields(ev.reason) });
  }
  finalized(atMs: number): void {
    this.emit({ type: 'finalize', atMs });
  }
  error(err: SttError): void {
    this.emit({ type: 'error', ...errorFields(err) });
  }
  end(summary: StreamSummary, wallMs: number): void {
    this.emit({
      type: 'summary',
      text: summary.text,
      finals: summary.transcripts.length,
      audioMs: summary.audioMs,
      wallMs: Math.round(wallMs),
      providers: summary.providers,
      reconnects: summary.reconnects,
      fallbacks: summary.fallbacks,
      ...(summary.error ? { error: errorFields(summary.error) } : {}),
    });
  }
}
