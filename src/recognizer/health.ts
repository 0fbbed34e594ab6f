/**
 * Provider availability for new streams: a provider that triggered a fallback
 * is taken out of rotation, probed after a cooldown with a cheap check
 * (token + handshake), and put back when the probe succeeds. A stream is never
 * switched back mid-call: only new streams see a recovered provider.
 * @module
 */
import { type SttError, isSttError, toSttError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { Provider } from '../providers/provider.js';

const MAX_COOLDOWN_MS = 5 * 60_000;

interface State {
  available: boolean;
  cooldownMs: number;
  timer: NodeJS.Timeout | undefined;
  probing: AbortController | undefined;
}

/** @internal */
export class ProviderHealth {
  private readonly states = new Map<string, State>();
  private closed = false;

  constructor(
    private readonly providers: readonly Provider[],
    private readonly cooldownMs: number,
    private readonly probeTimeoutMs: number,
    private readonly logger: Logger,
    private readonly onChange: (provider: string, available: boolean, reason?: SttError) => void,
  ) {
    for (const p of providers) this.states.set(p.id, { available: true, cooldownMs, timer: undefined, probing: undefined });
  }

  isAvailable(id: string): boolean {
    return this.states.get(id)?.available ?? false;
  }

  /** Providers for a new stream: available ones first, each group in priority order. */
  order(): Provider[] {
    const up = this.providers.filter((p) => this.isAvailable(p.id));
    const down = this.providers.filter((p) => !this.isAvailable(p.id));
    return [...up, ...down];
  }

  /** A stream fell back from `provider`: take it out of rotation and schedule a probe. */
  failed(provider: Provider, error: SttError): void {
    const s = this.states.get(provider.id);
    if (!s || this.closed) return;
    if (s.available) {
      s.available = false;
      s.cooldownMs = this.cooldownMs;
      this.logger.warn('recognizer: provider unavailable', { provider: provider.id, code: error.code });
      this.onChange(provider.id, false, error);
    }
    this.schedule(provider, s);
  }

  /** Stop every timer and probe. */
  close(): void {
    this.closed = true;
    for (const s of this.states.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.probing?.abort();
    }
  }

  private schedule(provider: Provider, s: State): void {
    if (s.timer || s.probing || this.closed) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      void this.probe(provider, s);
    }, s.cooldownMs);
  }

  private async probe(provider: Provider, s: State): Promise<void> {
    if (this.closed) return;
    const ac = new AbortController();
    s.probing = ac;
    const timer = setTimeout(() => ac.abort(), this.probeTimeoutMs);
    try {
      await probeProvider(provider, ac.signal, this.logger);
      if (this.closed) return;
      s.available = true;
      s.cooldownMs = this.cooldownMs;
      this.logger.info('recognizer: provider recovered', { provider: provider.id });
      this.onChange(provider.id, true);
    } catch (err) {
      if (this.closed) return;
      s.cooldownMs = Math.min(MAX_COOLDOWN_MS, s.cooldownMs * 2);
      this.logger.debug('recognizer: recovery probe failed', {
        provider: provider.id,
        code: isSttError(err) ? err.code : 'PROVIDER_ERROR',
        nextProbeMs: s.cooldownMs,
      });
    } finally {
      clearTimeout(timer);
      s.probing = undefined;
    }
    if (!s.available) this.schedule(provider, s);
  }
}

/**
 * The cheap check: the provider's own `probe()`, or else open a session in the provider's
 * preferred format and close it at once (for RTZR: token + WebSocket handshake).
 * @internal
 */
export async function probeProvider(provider: Provider, signal: AbortSignal, logger: Logger): Promise<void> {
  if (provider.probe) {
    await provider.probe(signal);
    return;
  }
  const caps = provider.capabilities;
  let failure: SttError | undefined;
  const session = await provider.connect({
    format: { encoding: caps.encodings[0] ?? 'linear16', sampleRate: caps.preferredSampleRate, channels: 1 },
    language: 'und',
    interimResults: false,
    signal,
    logger,
    onResult: () => {},
    onError: (e) => {
      failure = toSttError(e, provider.id);
    },
  });
  session.abort();
  if (failure) throw failure;
}
