/**
 * The `StreamingRecognizeRequest`s this provider sends. The first request of a
 * stream carries only the configuration (v2: and the recognizer), every later
 * one only audio (v1 `audioContent`, v2 `audio`), at most 25 KB each.
 * Sources: https://cloud.google.com/speech-to-text/docs/reference/rpc/google.cloud.speech.v1#streamingrecognizerequest,
 * https://cloud.google.com/speech-to-text/v2/docs/reference/rpc/google.cloud.speech.v2#streamingrecognizerequest,
 * https://cloud.google.com/speech-to-text/docs/quotas (25 KB per request).
 * @module
 * @internal
 */
import type { AudioEncoding, AudioFormat } from '../../../audio/format.js';
import type { ResolvedStreamingOptions } from './options.js';

/** Largest audio payload of one request, bytes (under Google's 25 KB; even, so LINEAR16 samples stay whole). */
export const MAX_AUDIO_BYTES = 25_000;

const ENCODINGS: Partial<Record<AudioEncoding, string>> = { linear16: 'LINEAR16', mulaw: 'MULAW', alaw: 'ALAW' };

/**
 * The first request of a stream. Interim results are always asked for (the stream drops partials
 * when the caller does not want them): they are also what tells the stream Google is alive while a
 * long utterance is being spoken.
 */
export function configRequest(o: ResolvedStreamingOptions, format: Required<AudioFormat>, language: string, recognizer?: string): Record<string, unknown> {
  const encoding = ENCODINGS[format.encoding] ?? 'LINEAR16';
  if (o.version === 'v1') {
    const config: Record<string, unknown> = {
      encoding,
      sampleRateHertz: format.sampleRate,
      audioChannelCount: 1,
      languageCode: language,
      maxAlternatives: o.maxAlternatives,
      enableWordTimeOffsets: o.wordTimeOffsets,
      enableAutomaticPunctuation: o.enableAutomaticPunctuation,
    };
    if (o.model !== undefined) config.model = o.model;
    if (o.useEnhanced !== undefined) config.useEnhanced = o.useEnhanced;
    const streamingConfig: Record<string, unknown> = { config, interimResults: true, singleUtterance: false };
    if (o.voiceActivityEvents) streamingConfig.enableVoiceActivityEvents = true;
    return { streamingConfig };
  }
  const features: Record<string, unknown> = {
    enableAutomaticPunctuation: o.enableAutomaticPunctuation,
    maxAlternatives: o.maxAlternatives,
  };
  if (o.wordTimeOffsets) features.enableWordTimeOffsets = true;
  const streamingFeatures: Record<string, unknown> = { interimResults: true };
  if (o.voiceActivityEvents) streamingFeatures.enableVoiceActivityEvents = true;
  return {
    recognizer,
    streamingConfig: {
      config: {
        explicitDecodingConfig: { encoding, sampleRateHertz: format.sampleRate, audioChannelCount: 1 },
        languageCodes: [language],
        model: o.model,
        features,
      },
      streamingFeatures,
    },
  };
}

/** An audio request (the bytes are not copied). */
export function audioRequest(version: 'v1' | 'v2', audio: Uint8Array): Record<string, unknown> {
  const bytes = Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength);
  return version === 'v1' ? { audioContent: bytes } : { audio: bytes };
}
