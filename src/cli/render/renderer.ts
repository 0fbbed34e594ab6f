/**
 * What a `transcribe` run reports, whatever the output format.
 * @module
 */
import type { AudioFormat } from '../../audio/format.js';
import type { SttError } from '../../errors/index.js';
import type { FallbackEvent, ReconnectEvent, StreamSummary, Transcript, UtteranceMetrics } from '../../stream/types.js';

/** Facts about the run, reported once before the audio. */
export interface RunInfo {
  /** The file as given, or `-` for stdin. */
  input: string;
  format: Required<AudioFormat>;
  /** Length of the recording, ms (unknown for raw audio on stdin). */
  durationMs?: number;
  /** Provider ids in priority order. */
  providers: string[];
  /** The providers are the built-in emulators. */
  emulated: boolean;
  /** Multiple of real time the audio is paced at; undefined: as fast as the provider accepts. */
  speed?: number;
  /** `finalize()` after this much silence, ms. */
  finalizeOnSilenceMs?: number;
}

/** Receives the run's events, in order. */
export interface TranscribeRenderer {
  start(info: RunInfo): void;
  /** Audio written so far, ms (called often; renderers throttle). */
  progress(sentMs: number): void;
  open(provider: string): void;
  partial(t: Transcript): void;
  final(t: Transcript): void;
  metrics(m: UtteranceMetrics): void;
  reconnect(ev: ReconnectEvent): void;
  fallback(ev: FallbackEvent): void;
  /** The caller's endpointer called `finalize()` at this position of the audio, ms. */
  finalized(atMs: number): void;
  error(err: SttError): void;
  /** The stream closed; `wallMs`: time from the first byte written. */
  end(summary: StreamSummary, wallMs: number): void;
}
