/** Driving a provider session directly (no stream): a request that records what it delivers, and the sample call as float32. */
import { pcm16ToFloat32 } from '../../src/audio/pcm.js';
import type { SttError } from '../../src/errors/index.js';
import type { ConnectRequest, ProviderResult, ProviderSession } from '../../src/providers/provider.js';
import { linear16k } from './sample-call.js';

export const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** A connect request in float32 16 kHz (the Whisper providers' wire format) that records results and errors. */
export function collectingRequest(): { request: ConnectRequest; results: ProviderResult[]; errors: SttError[] } {
  const results: ProviderResult[] = [];
  const errors: SttError[] = [];
  return {
    results,
    errors,
    request: {
      format: { encoding: 'float32', sampleRate: 16000, channels: 1 },
      language: 'ko-KR',
      interimResults: true,
      signal: new AbortController().signal,
      logger: quietLogger,
      onResult: (r) => results.push(r),
      onError: (e) => errors.push(e),
    },
  };
}

/** The 16 kHz sample call as float32 bytes. */
export const callF32 = (() => {
  const pcm = new Int16Array(linear16k.data.buffer, linear16k.data.byteOffset, linear16k.data.byteLength / 2);
  const f = pcm16ToFloat32(pcm);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
})();

/** Send the call from `fromMs` to `toMs` in 100 ms frames, at once. */
export function sendFloat32(session: ProviderSession, toMs: number, fromMs = 0): void {
  for (let ms = fromMs; ms < toMs; ms += 100) session.send(callF32.subarray(ms * 64, Math.min(toMs, ms + 100) * 64));
}

/** The same in real time. */
export async function sendFloat32Live(session: ProviderSession, toMs: number, fromMs = 0): Promise<void> {
  const started = performance.now();
  for (let ms = fromMs; ms < toMs; ms += 100) {
    session.send(callF32.subarray(ms * 64, Math.min(toMs, ms + 100) * 64));
    const wait = started + (ms + 100 - fromMs) - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
}
