/**
 * Reading `StreamingRecognizeResponse`s of v1 and v2 (as `@google-cloud/speech`
 * decodes them: camelCase, `Duration` as `{ seconds, nanos }`) into one shape.
 * v1 names times `resultEndTime`, `startTime`/`endTime`, `speechEventTime`; v2
 * `resultEndOffset`, `startOffset`/`endOffset`, `speechEventOffset`. All are
 * relative to the gRPC stream's first audio byte.
 * Sources: google/cloud/speech/v1/cloud_speech.proto, google/cloud/speech/v2/cloud_speech.proto.
 * @module
 * @internal
 */
import { durationMs } from '../recognize.js';

/** One result of a response. Times in ms from the gRPC stream's first audio byte. */
export interface StreamResult {
  isFinal: boolean;
  text: string;
  /** Interim results: Google's estimate (0..1) that this part will not change. */
  stability?: number;
  /** `resultEndTime` / `resultEndOffset`. */
  endMs: number;
  confidence?: number;
  words: { text: string; startMs: number; endMs: number; confidence?: number }[];
  language?: string;
}

/** One response. */
export interface StreamResponse {
  results: StreamResult[];
  /** A voice-activity event, when Google sent one. */
  event?: { type: 'SPEECH_ACTIVITY_BEGIN' | 'SPEECH_ACTIVITY_END' | 'END_OF_SINGLE_UTTERANCE' | 'SPEECH_ACTIVITY_TIMEOUT'; atMs: number };
  /** v1 `error` (a `google.rpc.Status` inside an otherwise normal response). */
  error?: { code: number; message: string };
}

type Obj = Record<string, unknown>;
const asObj = (v: unknown): Obj | undefined => (v && typeof v === 'object' ? (v as Obj) : undefined);
const EVENTS = new Set(['SPEECH_ACTIVITY_BEGIN', 'SPEECH_ACTIVITY_END', 'END_OF_SINGLE_UTTERANCE', 'SPEECH_ACTIVITY_TIMEOUT']);

/** Normalise one response of `version`. */
export function readResponse(version: 'v1' | 'v2', message: unknown): StreamResponse {
  const m = asObj(message) ?? {};
  const v1 = version === 'v1';
  const out: StreamResponse = { results: [] };
  const error = asObj(m.error);
  if (error && typeof error.code === 'number' && error.code !== 0) {
    out.error = { code: error.code, message: typeof error.message === 'string' ? error.message : '' };
  }
  const eventType = m.speechEventType;
  if (typeof eventType === 'string' && EVENTS.has(eventType)) {
    out.event = { type: eventType as NonNullable<StreamResponse['event']>['type'], atMs: durationMs(v1 ? m.speechEventTime : m.speechEventOffset) };
  }
  for (const raw of Array.isArray(m.results) ? m.results : []) {
    const r = asObj(raw);
    if (!r) continue;
    const alt = asObj(Array.isArray(r.alternatives) ? r.alternatives[0] : undefined) ?? {};
    const result: StreamResult = {
      isFinal: r.isFinal === true,
      text: typeof alt.transcript === 'string' ? alt.transcript : '',
      endMs: durationMs(v1 ? r.resultEndTime : r.resultEndOffset),
      words: [],
    };
    if (typeof r.stability === 'number' && r.stability > 0) result.stability = r.stability;
    if (result.isFinal && typeof alt.confidence === 'number' && alt.confidence > 0) result.confidence = alt.confidence;
    if (typeof r.languageCode === 'string' && r.languageCode !== '') result.language = r.languageCode;
    for (const w of Array.isArray(alt.words) ? alt.words : []) {
      const o = asObj(w);
      if (!o || typeof o.word !== 'string') continue;
      const word: StreamResult['words'][number] = {
        text: o.word,
        startMs: durationMs(v1 ? o.startTime : o.startOffset),
        endMs: durationMs(v1 ? o.endTime : o.endOffset),
      };
      if (typeof o.confidence === 'number' && o.confidence > 0) word.confidence = o.confidence;
      result.words.push(word);
    }
    out.results.push(result);
  }
  return out;
}
