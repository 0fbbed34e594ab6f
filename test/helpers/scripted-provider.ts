/**
 * The connection supervisor's test pieces: a tiny in-test implementation of the public `Provider`
 * interface that follows a plan (what a user writing their own provider implements; nothing of the
 * library is replaced), and a `SupervisorListener` that records what the supervisor reports.
 */
import {
  AbortError,
  type ConnectRequest,
  type EndOutcome,
  type Provider,
  type ProviderResult,
  type ProviderSession,
  type SttError,
} from '../../src/index.js';
import type { ConnectSettings } from '../../src/stream/connect-settings.js';
import type { Link } from '../../src/stream/link.js';
import { resolveReliability, type FallbackOptions, type ReconnectOptions } from '../../src/stream/reliability.js';
import { Supervisor, type SupervisorListener } from '../../src/stream/supervisor.js';
import type { HandoverReason, ReconnectEvent } from '../../src/stream/types.js';
import { quietLogger, STREAMING_CAPABILITIES } from './in-test-provider.js';

/** One session of the scripted provider: the test makes it answer or fail. */
export class ScriptedSession implements ProviderSession {
  readonly costs = { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false };
  readonly bufferedAmount = 0;
  aborted = false;
  constructor(readonly req: ConnectRequest) {}
  send(_audio: Uint8Array, onSent?: () => void): void {
    onSent?.();
  }
  finalize(): void {}
  end(): Promise<EndOutcome> {
    return Promise.resolve('closed');
  }
  abort(): void {
    this.aborted = true;
  }
  result(r: Partial<ProviderResult> = {}): void {
    this.req.onResult({ type: 'partial', segment: 0, text: 'hello', startMs: 0, endMs: 100, ...r });
  }
  fail(error: SttError): void {
    this.req.onError(error);
  }
}

export type Step = SttError | 'open' | 'hang';

/** A provider that follows a plan, one step per connect: fail with an error, open, or never answer. */
export class ScriptedProvider implements Provider {
  readonly capabilities = STREAMING_CAPABILITIES;
  /** Clock readings (performance.now()) of every connect. */
  readonly connects: number[] = [];
  /** The request of every connect. */
  readonly requests: ConnectRequest[] = [];
  readonly sessions: ScriptedSession[] = [];
  constructor(
    readonly id: string,
    readonly plan: Step[] = [],
    private readonly then: Step = 'open',
    limits: { maxStreamMs?: number; rotateAfterMs?: number } = {},
  ) {
    Object.assign(this, limits);
  }
  readonly maxStreamMs?: number;
  readonly rotateAfterMs?: number;
  /** Takes any per-stream options (they reach `connect()` as `request.options`). */
  checkSessionOptions(): void {}
  async connect(req: ConnectRequest): Promise<ProviderSession> {
    this.connects.push(performance.now());
    this.requests.push(req);
    const step = this.plan.shift() ?? this.then;
    if (step === 'hang') {
      return new Promise((_, reject) =>
        req.signal.addEventListener('abort', () => reject(new AbortError('aborted', { provider: this.id })), { once: true }),
      );
    }
    if (step !== 'open') throw step;
    const s = new ScriptedSession(req);
    this.sessions.push(s);
    return s;
  }
}

export interface Recorder extends SupervisorListener {
  events: string[];
  reconnects: (ReconnectEvent & { at: number })[];
  failures: { error: SttError; at: number }[];
  handovers: { from: Link; to: Link; reason: HandoverReason; forced: boolean; at: number }[];
  opened: (link: Link) => void;
  owed: boolean;
  /** What `atBoundary()` answers. */
  boundary: boolean;
}

export function recorder(): Recorder {
  const r: Recorder = {
    events: [],
    reconnects: [],
    failures: [],
    handovers: [],
    owed: false,
    boundary: true,
    opened: (link) => r.events.push(`open ${link.provider.id}`),
    result: (link) => r.events.push(`result ${link.provider.id}`),
    lost: (link, reason) => r.events.push(`lost ${link.provider.id} ${reason.code}`),
    reconnecting: (e) => {
      r.reconnects.push({ ...e, at: performance.now() });
      r.events.push(`reconnect ${e.provider} ${e.attempt}`);
    },
    fallingBack: (from, to, reason) => r.events.push(`fallback ${from}>${to} ${reason.code}`),
    owesResult: () => r.owed,
    failed: (error) => {
      r.failures.push({ error, at: performance.now() });
      r.events.push(`failed ${error.code}`);
    },
    atBoundary: () => r.boundary,
    handedOver: (from, to, reason, forced) => {
      r.handovers.push({ from, to, reason, forced, at: performance.now() });
      r.events.push(`handover ${from.provider.id}>${to.provider.id} ${reason}${forced ? ' forced' : ''}`);
    },
  };
  return r;
}

/** The reconnect policy of the supervisor tests (short delays, a short healthy uptime). */
export const POLICY: ReconnectOptions = { retries: 3, minDelayMs: 100, maxDelayMs: 1000, resetAfterMs: 2000 };

/** A started supervisor over `providers`, with a recording listener. */
export function supervise(
  providers: Provider[],
  opts: {
    fallback?: FallbackOptions | false;
    reconnect?: ReconnectOptions | false;
    giveUpAfterMs?: number;
    settings?: ConnectSettings;
  } = {},
) {
  const listener = recorder();
  const failedProviders: string[] = [];
  const sup = new Supervisor(
    {
      providers,
      reliability: resolveReliability(opts.fallback, opts.reconnect === undefined ? POLICY : opts.reconnect),
      giveUpAfterMs: opts.giveUpAfterMs ?? 10_000,
      input: { encoding: 'linear16', sampleRate: 16000, channels: 1 },
      settings: opts.settings ?? { language: 'ko-KR', interimResults: true },
      includeRaw: false,
      logger: quietLogger,
      origin: () => 0,
      onProviderFailed: (p) => failedProviders.push(p.id),
    },
    listener,
  );
  sup.start();
  return { sup, listener, failedProviders };
}
