/**
 * The v1 and v2 `StreamingRecognize` messages as the emulator reads and
 * writes them (proto-loader objects: camelCase fields, enums as strings):
 * validation of the first request, and the response shapes of each version
 * (v1 `resultEndTime`/`startTime`, v2 `resultEndOffset`/`startOffset`).
 * Sources: google/cloud/speech/v1/cloud_speech.proto, google/cloud/speech/v2/cloud_speech.proto.
 * @module
 * @internal
 */
import type { RtzrWireEncoding } from '../rtzr/params.js';

/** A request the emulator rejects: the stream ends with `INVALID_ARGUMENT` and this message. */
export class InvalidArgument extends Error {}

/** What a stream's first request configured. */
export interface StreamSetup {
  version: 'v1' | 'v2';
  encoding: RtzrWireEncoding;
  sampleRate: number;
  language: string;
  interimResults: boolean;
  wordTimeOffsets: boolean;
  voiceActivityEvents: boolean;
  model?: string;
  recognizer?: string;
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Buffer.isBuffer(v) ? (v as Obj) : undefined);

const V1_ENCODINGS = new Set(['LINEAR16', 'MULAW']);
const V2_ENCODINGS = new Set(['LINEAR16', 'MULAW', 'ALAW']);
const RECOGNIZER_RE = /^projects\/[^/]+\/locations\/[^/]+\/recognizers\/[^/]+$/;

function sampleRate(v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 8000 || v > 48000) {
    throw new InvalidArgument("Invalid recognition 'config': sample_rate_hertz must be between 8000 and 48000.");
  }
  return v;
}

/**
 * Validate a stream's first request and read its setup.
 * @throws {@link InvalidArgument} with a Google-like message.
 */
export function parseFirstRequest(version: 'v1' | 'v2', req: Obj): StreamSetup {
  const sc = asObj(req.streamingConfig);
  if (!sc) throw new InvalidArgument('Malordered Data Received. Send exactly one config, followed by audio data.');
  const config = asObj(sc.config);
  if (!config) throw new InvalidArgument("Invalid recognition 'config': config is required.");
  if (version === 'v1') {
    const encoding = config.encoding;
    if (typeof encoding !== 'string' || !V1_ENCODINGS.has(encoding)) {
      throw new InvalidArgument(`Invalid recognition 'config': bad encoding ${JSON.stringify(encoding)} (the emulator decodes LINEAR16 and MULAW).`);
    }
    if (typeof config.languageCode !== 'string' || config.languageCode === '') {
      throw new InvalidArgument("Invalid recognition 'config': language_code is required.");
    }
    const setup: StreamSetup = {
      version,
      encoding: encoding as RtzrWireEncoding,
      sampleRate: sampleRate(config.sampleRateHertz),
      language: config.languageCode,
      interimResults: sc.interimResults === true,
      wordTimeOffsets: config.enableWordTimeOffsets === true,
      voiceActivityEvents: sc.enableVoiceActivityEvents === true,
    };
    if (typeof config.model === 'string' && config.model !== '') setup.model = config.model;
    return setup;
  }
  const recognizer = req.recognizer;
  if (typeof recognizer !== 'string' || !RECOGNIZER_RE.test(recognizer)) {
    throw new InvalidArgument(`Invalid resource field value in the request: recognizer ${JSON.stringify(recognizer)}.`);
  }
  const decoding = asObj(config.explicitDecodingConfig);
  if (!decoding) throw new InvalidArgument('explicit_decoding_config is required for streaming raw audio (auto decoding is not supported here).');
  const encoding = decoding.encoding;
  if (typeof encoding !== 'string' || !V2_ENCODINGS.has(encoding)) {
    throw new InvalidArgument(`Invalid explicit_decoding_config: encoding ${JSON.stringify(encoding)} (the emulator decodes LINEAR16, MULAW and ALAW).`);
  }
  const languages = Array.isArray(config.languageCodes) ? config.languageCodes.filter((l): l is string => typeof l === 'string' && l !== '') : [];
  if (languages.length === 0) throw new InvalidArgument('RecognitionConfig.language_codes must name at least one language.');
  if (recognizer.endsWith('/recognizers/_') && (typeof config.model !== 'string' || config.model === '')) {
    throw new InvalidArgument('RecognitionConfig.model is required with the implicit recognizer "_".');
  }
  const features = asObj(config.features) ?? {};
  const streamingFeatures = asObj(sc.streamingFeatures) ?? {};
  const setup: StreamSetup = {
    version,
    encoding: encoding as RtzrWireEncoding,
    sampleRate: sampleRate(decoding.sampleRateHertz),
    language: languages[0]!,
    interimResults: streamingFeatures.interimResults === true,
    wordTimeOffsets: features.enableWordTimeOffsets === true,
    voiceActivityEvents: streamingFeatures.enableVoiceActivityEvents === true,
    recognizer,
  };
  if (typeof config.model === 'string' && config.model !== '') setup.model = config.model;
  return setup;
}

/** The audio of a later request; `undefined` when it carries none. */
export function audioOf(version: 'v1' | 'v2', req: Obj): Uint8Array | undefined {
  if (asObj(req.streamingConfig)) throw new InvalidArgument('Malordered Data Received. Send exactly one config, followed by audio data.');
  const audio = version === 'v1' ? req.audioContent : req.audio;
  return audio instanceof Uint8Array ? audio : undefined;
}

/** A `google.protobuf.Duration`. */
export function duration(ms: number): { seconds: number; nanos: number } {
  const total = Math.max(0, Math.round(ms));
  return { seconds: Math.floor(total / 1000), nanos: (total % 1000) * 1_000_000 };
}

/** One interim result's text and stability. */
export interface InterimPart {
  text: string;
  stability: number;
}

/** An interim response: Google splits the hypothesis into a stable prefix and a volatile tail. */
export function interimResponse(setup: StreamSetup, parts: readonly InterimPart[], endMs: number): Obj {
  const endKey = setup.version === 'v1' ? 'resultEndTime' : 'resultEndOffset';
  return {
    results: parts.map((p) => ({
      alternatives: [{ transcript: p.text }],
      isFinal: false,
      stability: p.stability,
      [endKey]: duration(endMs),
      languageCode: setup.language.toLowerCase(),
    })),
  };
}

/** A final result. */
export interface FinalResult {
  text: string;
  confidence: number;
  words: { text: string; startMs: number; endMs: number }[];
  endMs: number;
}

/** A final response (words only when the config asked for word time offsets). */
export function finalResponse(setup: StreamSetup, r: FinalResult): Obj {
  const v1 = setup.version === 'v1';
  const alternative: Obj = { transcript: r.text, confidence: r.confidence };
  if (setup.wordTimeOffsets && !(setup.model ?? '').startsWith('chirp_3')) {
    alternative.words = r.words.map((w) =>
      v1
        ? { word: w.text, startTime: duration(w.startMs), endTime: duration(w.endMs), confidence: r.confidence }
        : { word: w.text, startOffset: duration(w.startMs), endOffset: duration(w.endMs), confidence: r.confidence },
    );
  }
  return {
    results: [
      {
        alternatives: [alternative],
        isFinal: true,
        [v1 ? 'resultEndTime' : 'resultEndOffset']: duration(r.endMs),
        languageCode: setup.language.toLowerCase(),
      },
    ],
  };
}

/** A voice-activity event (only when the config enabled them). */
export function speechEventResponse(setup: StreamSetup, type: 'SPEECH_ACTIVITY_BEGIN' | 'SPEECH_ACTIVITY_END', ms: number): Obj {
  return setup.version === 'v1'
    ? { speechEventType: type, speechEventTime: duration(ms) }
    : { speechEventType: type, speechEventOffset: duration(ms) };
}
