/**
 * `startGoogleStreamingEmulator()`: a real gRPC server (plaintext) on
 * 127.0.0.1 serving Google Speech-to-Text v1 and v2 `StreamingRecognize`
 * from the official proto definitions, recognising by script.
 * @module
 */
import { ConfigurationError } from '../../errors/index.js';
import { ScriptCursor } from '../script-cursor.js';
import { StreamingFaultState } from './faults.js';
import { loadSpeechServices } from './grpc-libs.js';
import { RecognitionCall, type CallRules, type ServerCall } from './recognition-call.js';
import type {
  GoogleGrpcStatusName,
  GoogleStreamingEmulator,
  GoogleStreamingEmulatorCounters,
  GoogleStreamingEmulatorOptions,
  GoogleStreamingLatency,
  GoogleStreamingRequestLogEntry,
  GoogleStreamingStreamLogEntry,
} from './types.js';

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (typeof x !== 'number' || !Number.isFinite(x) || x <= 0) throw new ConfigurationError(`${name} must be a number > 0`);
  return x;
}

function checkLatency(l: GoogleStreamingLatency): void {
  for (const [k, v] of Object.entries(l)) {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigurationError(`latency.${k} must be a number >= 0`);
  }
}

function bounded<T>(list: T[], entry: T): void {
  list.push(entry);
  if (list.length > 100) list.shift();
}

/**
 * Start a Google Speech-to-Text streaming emulator. Needs the optional packages
 * `@google-cloud/speech` (for its protos), `@grpc/grpc-js` and `@grpc/proto-loader`; they are loaded
 * only here, so `streaming-stt/testing` imports without them.
 *
 * Google's rules it applies: the first request carries only the config, later ones only audio
 * (≤ `maxAudioBytes`); a stream ends with `OUT_OF_RANGE` after `streamLimitMs`, after
 * `audioTimeoutMs` without audio, or when its audio runs more than `maxAheadMs` ahead of wall time.
 * Sources: https://cloud.google.com/speech-to-text/docs/quotas (25 KB per message, 5 minutes,
 * "at a rate that approximates real time"), google/cloud/speech/{v1,v2}/cloud_speech.proto.
 *
 * @example
 * ```ts
 * const google = await startGoogleStreamingEmulator({ script: ['안녕하세요'] });
 * const provider = new GoogleProvider({ mode: 'streaming', endpoint: google.endpoint });
 * ```
 * @throws {@link streaming-stt!ConfigurationError} when an option is invalid or a package is missing.
 */
export async function startGoogleStreamingEmulator(options: GoogleStreamingEmulatorOptions = {}): Promise<GoogleStreamingEmulator> {
  const rules: CallRules = {
    streamLimitMs: positive('streamLimitMs', options.streamLimitMs, 305_000),
    audioTimeoutMs: positive('audioTimeoutMs', options.audioTimeoutMs, 10_000),
    maxAheadMs: positive('maxAheadMs', options.maxAheadMs, 5000),
    maxAudioBytes: positive('maxAudioBytes', options.maxAudioBytes, 25_600),
    silenceMs: positive('silenceMs', options.silenceMs, 500),
  };
  const latency: Required<GoogleStreamingLatency> = { processingMs: 0, partialIntervalMs: 300, ...(options.latency ?? {}) };
  checkLatency(latency);
  const { grpc, v1, v2 } = await loadSpeechServices();
  const codes = grpc.status as Record<GoogleGrpcStatusName, number>;
  const cursor = options.script instanceof ScriptCursor ? options.script : new ScriptCursor(options.script ?? []);
  const lines = { reserved: 0 };
  const counters: GoogleStreamingEmulatorCounters = {
    streams: 0,
    openStreams: 0,
    maxOpenStreams: 0,
    messages: 0,
    audioBytes: 0,
    responses: 0,
    partials: 0,
    finals: 0,
    errors: 0,
  };
  const faults = new StreamingFaultState();
  const requests: GoogleStreamingRequestLogEntry[] = [];
  const streamsLog: GoogleStreamingStreamLogEntry[] = [];
  const open = new Set<RecognitionCall>();
  let nextId = 1;
  let closed = false;

  const handler = (version: 'v1' | 'v2') => (call: ServerCall) => {
    const rc = new RecognitionCall(call, {
      id: nextId++,
      version,
      codes,
      cursor,
      lines,
      rules,
      latency,
      faults,
      counters,
      logRequest: (e) => bounded(requests, e),
      logEnd: (e) => bounded(streamsLog, e),
      onDone: (c) => open.delete(c),
    });
    open.add(rc);
    if (closed) rc.abort('UNAVAILABLE', 'emulator is shutting down');
  };

  const server = new grpc.Server();
  server.addService(v1, { StreamingRecognize: handler('v1') });
  server.addService(v2, { StreamingRecognize: handler('v2') });
  const host = options.host ?? '127.0.0.1';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:0`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });

  return {
    endpoint: `http://${host}:${port}`,
    host,
    port,
    counters,
    faults,
    requests,
    streamsLog,
    setLatency(l) {
      checkLatency(l);
      Object.assign(latency, l);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const c of [...open]) c.abort('UNAVAILABLE', 'emulator is shutting down');
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1000);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
