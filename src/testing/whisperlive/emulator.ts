/**
 * The WhisperLive emulator: a real WebSocket server on 127.0.0.1 speaking
 * collabora/WhisperLive's protocol (options message, `SERVER_READY`, `WAIT`
 * beyond `max_clients`, float32 audio, segment updates re-sending the last N
 * committed segments, `END_OF_AUDIO`, `DISCONNECT`, optional API key), with
 * scripted recognition, latency knobs, counters, a connection log and faults.
 * @module
 */
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { ConfigurationError } from '../../errors/index.js';
import { WsHost, type UpgradeDecision } from '../shared/ws-host.js';
import { FaultState } from './faults.js';
import { WhisperLiveEmulatorSession } from './session.js';
import type {
  WhisperLiveConnectionLogEntry,
  WhisperLiveEmulator,
  WhisperLiveEmulatorCounters,
  WhisperLiveEmulatorOptions,
  WhisperLiveLatency,
} from './types.js';

const LOG_LIMIT = 1000;

function checkLatency(latency: Partial<WhisperLiveLatency>): void {
  for (const [key, value] of Object.entries(latency)) {
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new ConfigurationError(`WhisperLive emulator: latency.${key} must be a number >= 0, got ${String(value)}`);
    }
  }
}

function checkInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigurationError(`WhisperLive emulator: ${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return value;
}

/** The key a client presents: `Authorization: Bearer <key>` or `?token=<key>`. */
function presentedKey(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization;
  const m = typeof auth === 'string' ? /^Bearer\s+(.+)$/i.exec(auth) : null;
  if (m) return m[1]!.trim();
  return new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
}

class WhisperLiveEmulatorServer implements WhisperLiveEmulator {
  readonly counters: WhisperLiveEmulatorCounters = {
    connections: 0,
    openConnections: 0,
    rejectedConnections: 0,
    readySent: 0,
    waitsSent: 0,
    errorsSent: 0,
    disconnectsSent: 0,
    audioBytes: 0,
    framesReceived: 0,
    endOfAudioReceived: 0,
    messagesSent: 0,
    updatesSent: 0,
    segmentsCompleted: 0,
    segmentsResent: 0,
  };
  readonly faults: FaultState;
  readonly connectionsLog: WhisperLiveConnectionLogEntry[] = [];
  private readonly latency: Required<WhisperLiveLatency>;
  private readonly maxClients: number;
  private readonly maxConnectionTimeMs: number;
  private readonly updateIntervalMs: number;
  private readonly epdMs: number;
  private readonly loop: { passMs: number; minAudioMs: number } | undefined;
  private readonly sessions = new Set<WhisperLiveEmulatorSession>();
  private readonly clients = new Set<WhisperLiveEmulatorSession>();
  private readonly host: WsHost;
  private ids = 0;

  constructor(private readonly options: WhisperLiveEmulatorOptions) {
    this.maxClients = checkInt('maxClients', options.maxClients ?? 4, 0);
    this.maxConnectionTimeMs = checkInt('maxConnectionTimeMs', options.maxConnectionTimeMs ?? 600_000, 1);
    this.updateIntervalMs = checkInt('updateIntervalMs', options.updateIntervalMs ?? 1000, 10);
    this.epdMs = checkInt('epdMs', options.epdMs ?? 500, 50);
    if (options.modelPassMs !== undefined) {
      this.loop = {
        passMs: checkInt('modelPassMs', options.modelPassMs, 0),
        minAudioMs: checkInt('minAudioMs', options.minAudioMs ?? 1000, 1),
      };
    }
    if (options.apiKey !== undefined && (typeof options.apiKey !== 'string' || options.apiKey === '')) {
      throw new ConfigurationError('WhisperLive emulator: apiKey must be a non-empty string');
    }
    if (options.latency) checkLatency(options.latency);
    this.latency = { connectMs: 0, readyMs: 0, processingMs: 0, ...options.latency };
    this.faults = new FaultState(() => {
      for (const s of [...this.sessions]) s.terminate();
    });
    this.host = new WsHost({
      host: options.host ?? '127.0.0.1',
      maxPayload: 1_048_576,
      decide: (req) => this.decide(req),
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

  setLatency(latency: Partial<WhisperLiveLatency>): void {
    checkLatency(latency);
    for (const [key, value] of Object.entries(latency) as Array<[keyof WhisperLiveLatency, number | undefined]>) {
      if (value !== undefined) this.latency[key] = value;
    }
  }

  async close(): Promise<void> {
    for (const s of [...this.sessions]) s.terminate();
    await this.host.close();
  }

  private decide(req: IncomingMessage): UpgradeDecision {
    const fault = this.faults.takeUpgradeFault();
    if (fault) return fault.kind === 'refuse' ? fault : { kind: 'reject', status: fault.status };
    if (this.options.apiKey !== undefined && presentedKey(req) !== this.options.apiKey) {
      return { kind: 'reject', status: 401, body: 'Unauthorized: invalid or missing API key\n' };
    }
    return { kind: 'accept' };
  }

  private onConnection(ws: WebSocket, req: IncomingMessage): void {
    const id = ++this.ids;
    this.counters.connections++;
    this.counters.openConnections++;
    const log: WhisperLiveConnectionLogEntry = {
      id,
      authorization: typeof req.headers.authorization === 'string',
      openedAt: Date.now(),
      audioMs: 0,
    };
    this.connectionsLog.push(log);
    if (this.connectionsLog.length > LOG_LIMIT) this.connectionsLog.splice(0, this.connectionsLog.length - LOG_LIMIT);
    const session = new WhisperLiveEmulatorSession(ws, {
      id,
      resolveScript: (options) =>
        this.options.scriptFor?.({ connectionId: id, options, headers: req.headers }) ?? this.options.script ?? [],
      registry: {
        add: (s) => {
          if (this.clients.size >= this.maxClients) return false;
          this.clients.add(s);
          return true;
        },
        remove: (s) => this.clients.delete(s),
        waitMinutes: () => {
          let wait: number | undefined;
          for (const c of this.clients) {
            const left = this.maxConnectionTimeMs - (Date.now() - c.startedAt);
            if (wait === undefined || left < wait) wait = left;
          }
          return wait === undefined ? 0 : wait / 60_000;
        },
      },
      updateIntervalMs: this.updateIntervalMs,
      flushOnEndOfAudio: this.options.flushOnEndOfAudio ?? false,
      maxConnectionTimeMs: this.maxConnectionTimeMs,
      epdMs: this.epdMs,
      loop: this.loop,
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
 * Start a WhisperLive emulator on 127.0.0.1 (random port).
 *
 * @example
 * ```ts
 * const emu = await startWhisperLiveEmulator({ script: ['안녕하세요'], maxClients: 2 });
 * const provider = new WhisperLiveProvider({ url: emu.url });
 * // … emu.counters.segmentsResent, emu.faults.failModelLoad() …
 * await emu.close();
 * ```
 * @throws {@link streaming-stt!ConfigurationError} for invalid options.
 */
export async function startWhisperLiveEmulator(options: WhisperLiveEmulatorOptions = {}): Promise<WhisperLiveEmulator> {
  const emulator = new WhisperLiveEmulatorServer(options);
  await emulator.listen();
  return emulator;
}
