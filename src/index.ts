/**
 * streaming-stt: real-time speech-to-text for phone and voice-agent apps.
 * @packageDocumentation
 * @module streaming-stt
 */
export { StreamingRecognizer } from './recognizer/streaming-recognizer.js';
export type { RecognizerMetrics, ProviderMetrics, LatencySummary } from './recognizer/metrics-aggregator.js';
export { diagnosticsChannels } from './diagnostics.js';
export type {
  ConnectDiagnostic,
  TokenDiagnostic,
  ReconnectDiagnostic,
  FallbackDiagnostic,
  DiagnosticError,
} from './diagnostics.js';
export type {
  StreamingRecognizerOptions,
  StreamingRecognizerEvents,
  FallbackOptions,
  ReconnectOptions,
  AvailabilityEvent,
  CoordinatorEvent,
  RecognizeOptions,
} from './recognizer/streaming-recognizer.js';
export { RedisCoordinator } from './coordination/redis-coordinator.js';
export type { RedisCoordinatorOptions, RedisClientLike, RedisCommand } from './coordination/redis-coordinator.js';
export { LocalCoordinator } from './coordination/local-coordinator.js';
export type { LocalCoordinatorOptions } from './coordination/local-coordinator.js';
export type { Coordinator, CoordinatorSlot, CoordinatorLock, SharedToken, SharedHealth } from './coordination/coordinator.js';
export type { ConcurrencyOptions, ResolvedConcurrency } from './coordination/budget.js';
export { RecognitionStream } from './stream/recognition-stream.js';
export type { StreamInit } from './stream/recognition-stream.js';
export type { AudioChunk } from './stream/input.js';
export type {
  Transcript,
  Word,
  UtteranceMetrics,
  StreamSummary,
  StreamOptions,
  StreamState,
  RecognitionEvent,
  RecognitionStreamEvents,
  ReconnectEvent,
  FallbackEvent,
  StreamWarning,
  StreamWarningCode,
  StateEvent,
  HandoverEvent,
  HandoverReason,
  ReconfigureOptions,
} from './stream/types.js';
export type {
  Provider,
  ProviderCapabilities,
  ProviderResult,
  ProviderSession,
  EndOutcome,
  SessionCosts,
  ConnectRequest,
  WarmupOptions,
  SessionOptions,
  KeywordOption,
} from './providers/provider.js';
export { RtzrProvider } from './providers/rtzr/rtzr-provider.js';
export type { RtzrProviderStats } from './providers/rtzr/rtzr-provider.js';
export type { RtzrProviderOptions, RtzrPrewarmOptions, RtzrModel, RtzrDomain } from './providers/rtzr/options.js';
export { FasterWhisperProvider } from './providers/faster-whisper/faster-whisper-provider.js';
export type { FasterWhisperProviderStats } from './providers/faster-whisper/faster-whisper-provider.js';
export type { FasterWhisperProviderOptions, FasterWhisperEndpointing } from './providers/faster-whisper/options.js';
export { DEFAULT_WHISPER_HALLUCINATIONS } from './providers/faster-whisper/hallucinations.js';
export { WhisperLiveProvider } from './providers/whisperlive/whisperlive-provider.js';
export type { WhisperLiveProviderStats } from './providers/whisperlive/whisperlive-provider.js';
export type { WhisperLiveProviderOptions } from './providers/whisperlive/options.js';
export {
  SttError,
  AuthenticationError,
  RateLimitError,
  ConnectionError,
  TimeoutError,
  ProviderError,
  AudioFormatError,
  ConfigurationError,
  StateError,
  AbortError,
  AllProvidersFailedError,
  isSttError,
} from './errors/index.js';
export type { SttErrorCode, SttErrorOptions } from './errors/index.js';
export type { Logger } from './logger.js';
export type { TelemetryOptions, TelemetryTracerProvider, TelemetryMeterProvider } from './telemetry/options.js';
export type { AudioEncoding, AudioFormat } from './audio/format.js';
export { decodeMulaw, encodeMulaw, decodeAlaw, encodeAlaw } from './audio/g711.js';
export { pcm16ToFloat32, float32ToPcm16 } from './audio/pcm.js';
export { Resampler } from './audio/resampler.js';
export type { ResamplerOptions } from './audio/resampler.js';
export { readWav } from './audio/wav.js';
export type { WavInfo } from './audio/wav.js';
export { Endpointer } from './audio/endpointer.js';
export type { EndpointerOptions, EndpointerEvent } from './audio/endpointer.js';
export { GoogleProvider } from './providers/google/google-provider.js';
export type { GoogleProviderOptions, ServiceAccountCredentials } from './providers/google/options.js';
export type { GoogleStreamingOptions } from './providers/google/streaming/options.js';
