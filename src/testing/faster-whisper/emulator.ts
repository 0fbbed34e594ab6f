/**
 * The Faster-Whisper chunk-server emulator: a real WebSocket server on
 * 127.0.0.1 speaking the seeds' `realtime_server.py` protocol (float32 16 kHz
 * binary frames in, one `{"text"}` per chunk of `chunk_duration` with
 * `overlap_duration` carried over), with scripted recognition, latency knobs,
 * counters, a connection log and fault injection.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ConfigurationError } from '../../errors/index.js';
import { WsHost } from '../shared/ws-host.js';
import { FaultState } from './faults.js';
import { FasterWhisperEmulatorSession } from './session.js';
import type {
  FasterWhisperConnectionLogEntry,
  FasterWhisperEmulator,
  FasterWhisperEmulatorCounters,
  FasterWhisperEmulatorOptions,
  FasterWhisperLatency,
} from './types.js';

const LOG_LIMIT = 1000;

/** Stock phrases said on silence with `hallucinate: true` (Whisper's favourites, Korean and English). */
const STOCK_PHRASES: readonly string[] = [
  '시청해 주셔서 감사합니다.',
  'Thanks for watching!',
  '구독과 좋아요 부탁드립니다.',
  'MBC 뉴스 이덕영입니다.',
  'Thank you for watching.',
  '자막 제공: 배달의 민족',
];

function checkLatency(latency: Partial<FasterWhisperLatency>): void {
  for (const [key, value] of Object.entries(latency)) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigurationError(`Faster-Whisper emulator: latency.${key} must be a number >= 0, got ${String(value)}`);
    }
  }
}

function checkInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(`Faster-Whisper emulator: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

class FasterWhisperEmulatorServer implements FasterWhisperEmulator {
  readonly counters: FasterWhisperEmulatorCounters = {
    connections: 0,
    openConnections: 0,
    rejectedConnections: 0,
    audioBytes: 0,
    framesReceived: 0,
    messagesSent: 0,
    chunksTranscribed: 0,
    wordsResent: 0,
    hallucinationsSent: 0,
    wordsMangled: 0,
  };
  readonly faults: FaultState;
  readonly connectionsLog: FasterWhisperConnectionLogEntry[] = [];
  readonly chunkDurationMs: number;
  readonly overlapDurationMs: number;
  private readonly latency: Required<FasterWhisperLatency>;
  private readonly hallucinations: readonly string[];
  private readonly coverage: number;
  private readonly mangleEdges: boolean;
  private readonly wordTimes: boolean;
  private readonly epdMs: number;
  private readonly sessions = new Set<FasterWhisperEmulatorSession>();
  private readonly host: WsHost;
  private ids = 0;

  constructor(private readonly options: FasterWhisperEmulatorOptions) {
    this.chunkDurationMs = checkInt('chunkDurationMs', options.chunkDurationMs ?? 2000, 200, 30_000);
    this.overlapDurationMs = checkInt('overlapDurationMs', options.overlapDurationMs ?? 500, 0, this.chunkDurationMs - 1);
    this.epdMs = checkInt('epdMs', options.epdMs ?? 500, 50, 10_000);
    const coverage = options.wordCoverage ?? 0.4;
    if (typeof coverage !== 'number' || !(coverage > 0 && coverage <= 0.5)) {
      throw new ConfigurationError(`Faster-Whisper emulator: wordCoverage must be in (0, 0.5], got ${String(coverage)}`);
    }
    this.coverage = coverage;
    this.mangleEdges = options.mangleEdges === true;
    this.wordTimes = options.wordTimes === true;
    const h = options.hallucinate ?? false;
    this.hallucinations = h === true ? STOCK_PHRASES : h === false ? [] : [...h];
    if (options.latency) checkLatency(options.latency);
    this.latency = { connectMs: 0, processingMs: 0, ...options.latency };
    this.faults = new FaultState(() => {
      for (const s of this.sessions) s.terminate();
    });
    this.host = new WsHost({
      host: options.host ?? '127.0.0.1',
      maxPayload: checkInt('maxMessageBytes', options.maxMessageBytes ?? 1_048_576, 1024, 1 << 30),
      decide: () => {
        const fault = this.faults.takeUpgradeFault();
        if (!fault) return { kind: 'accept' };
        return fault.kind === 'refuse' ? fault : { kind: 'reject', status: fault.status };
      },
      connectDelayMs: () => this.latency.connectMs,
      onRejected: () => this.counters.rejectedConnections++,
      onConnection: (ws, req) => this.onConnection(ws, req),
    });
  }

  get url(): string {
    return this.host.url;
  }

  listen(): Promise<void> {
    return this.host.listen();
  }

  setLatency(latency: Partial<FasterWhisperLatency>): void {
    checkLatency(latency);
    for (const [key, value] of Object.entries(latency) as Array<[keyof FasterWhisperLatency, number | undefined]>) {
      if (value !== undefined) this.latency[key] = value;
    }
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.terminate();
    await this.host.close();
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const id = ++this.ids;
    this.counters.connections++;
    this.counters.openConnections++;
    const path = req.url ?? '/';
    const log: FasterWhisperConnectionLogEntry = { id, path, openedAt: Date.now(), audioMs: 0, replies: [] };
    this.connectionsLog.push(log);
    if (this.connectionsLog.length > LOG_LIMIT) this.connectionsLog.splice(0, this.connectionsLog.length - LOG_LIMIT);
    const script = this.options.scriptFor?.({ connectionId: id, path, headers: req.headers }) ?? this.options.script ?? [];
    const session = new FasterWhisperEmulatorSession(ws, {
      script,
      chunkMs: this.chunkDurationMs,
      overlapMs: this.overlapDurationMs,
      coverage: this.coverage,
      mangleEdges: this.mangleEdges,
      wordTimes: this.wordTimes,
      epdMs: this.epdMs,
      hallucinations: this.hallucinations,
      latency: this.latency,
      faults: this.faults,
      counters: this.counters,
      log,
      onClosed: (s) => {
        this.sessions.delete(s);
        this.counters.openConnections--;
      },
    });
    this.sessions.add(session);
  }
}

/**
 * Start a Faster-Whisper chunk-server emulator on 127.0.0.1 (random port).
 *
 * @example
 * ```ts
 * const emu = await startFasterWhisperEmulator({ script: ['안녕하세요'], hallucinate: true });
 * const provider = new FasterWhisperProvider({ url: emu.url, chunkDurationMs: emu.chunkDurationMs,
 *   overlapDurationMs: emu.overlapDurationMs });
 * // … emu.counters.wordsResent, emu.faults.dropAll() …
 * await emu.close();
 * ```
 * @throws {@link streaming-stt!ConfigurationError} for invalid options.
 */
export async function startFasterWhisperEmulator(options: FasterWhisperEmulatorOptions = {}): Promise<FasterWhisperEmulator> {
  const emulator = new FasterWhisperEmulatorServer(options);
  await emulator.listen();
  return emulator;
}
