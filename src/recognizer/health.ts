/**
 * Provider availability for new streams: a provider that triggered a fallback
 * is taken out of rotation, probed after a cooldown with a cheap check
 * (token + handshake), and put back when the probe succeeds: new streams use it
 * again, and (with `fallback.switchBack`) the recognizer tells open streams on
 * a lower-priority provider to hand back to it at their next utterance boundary.
 *
 * Shared through a coordinator ({@link ProviderHealth.share}): a provider taken
 * out of rotation by one process is skipped by all (each re-reads the shared
 * state every `syncIntervalMs`), one process probes it (under a lock), and its
 * result brings the provider back for all. While the coordinator does not
 * answer, each process keeps and probes its own view.
 * @module
 */
import type { SharedHealth } from '../coordination/coordinator.js';
import type { CoordinatorLink } from '../coordination/link.js';
import { SttError, type SttErrorCode, isSttError, toSttError } from '../errors/index.js';
import type { Logger } from '../logger.js';
import type { Provider } from '../providers/provider.js';

const MAX_COOLDOWN_MS = 5 * 60_000;

interface State {
  available: boolean;
  cooldownMs: number;
  timer: NodeJS.Timeout | undefined;
  probing: AbortController | undefined;
  /** When `available` last changed, epoch ms. */
  changedAtMs: number;
}

/** @internal */
export class ProviderHealth {
  private readonly states = new Map<string, State>();
  private closed = false;
  private link: CoordinatorLink | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing = false;

  constructor(
    private readonly providers: readonly Provider[],
    private readonly cooldownMs: number,
    private readonly probeTimeoutMs: number,
    private readonly logger: Logger,
    private readonly onChange: (provider: string, available: boolean, reason?: SttError) => void,
  ) {
    for (const p of providers) {
      this.states.set(p.id, { available: true, cooldownMs, timer: undefined, probing: undefined, changedAtMs: 0 });
    }
  }

  /** Share health through `link` (fleet-wide): publish changes, read others' every `syncIntervalMs`. */
  share(link: CoordinatorLink): void {
    if (!link.coordinator || this.closed) return;
    this.link = link;
    this.syncTimer = setInterval(() => void this.sync(), link.coordinator.syncIntervalMs);
    this.syncTimer.unref();
    void this.sync();
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
      s.changedAtMs = Date.now();
      this.logger.warn('recognizer: provider unavailable', { provider: provider.id, code: error.code });
      this.onChange(provider.id, false, error);
      this.publish(provider.id, s, error);
    }
    this.schedule(provider, s);
  }

  /** Stop every timer and probe. */
  close(): void {
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    for (const s of this.states.values()) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.probing?.abort();
    }
  }

  private schedule(provider: Provider, s: State, delayMs = s.cooldownMs): void {
    if (s.timer || s.probing || this.closed) return;
    s.timer = setTimeout(() => {
      s.timer = undefined;
      void this.probe(provider, s);
    }, delayMs);
  }

  private async probe(provider: Provider, s: State): Promise<void> {
    if (this.closed) return;
    const ac = new AbortController();
    s.probing = ac;
    // one process of the fleet probes; the others learn its result from the shared state
    const lock = await this.link?.call(
      'lock recovery probe',
      (c) => c.tryLock(`probe:${provider.id}`, this.probeTimeoutMs + 2000),
      (late) => void late?.release().catch(() => {}),
    );
    if (lock?.ok && !lock.value) {
      s.probing = undefined;
      if (!s.available) this.schedule(provider, s);
      return;
    }
    if (lock?.ok && lock.value) {
      // another process may have probed just before we got the lock: follow its result instead
      const h = await this.link!.call('read health', (c) => c.getHealth(`health:${provider.id}`));
      if (h.ok && h.value && h.value.changedAtMs > s.changedAtMs) {
        s.probing = undefined;
        void this.link!.call('unlock recovery probe', () => lock.value!.release(), undefined, true);
        if (!this.closed) this.follow(provider, s, h.value);
        if (!s.available) this.schedule(provider, s);
        return;
      }
    }
    const timer = setTimeout(() => ac.abort(), this.probeTimeoutMs);
    let failure: unknown;
    try {
      await probeProvider(provider, ac.signal, this.logger);
    } catch (err) {
      failure = err;
    } finally {
      clearTimeout(timer);
      s.probing = undefined;
      if (lock?.ok && lock.value) void this.link?.call('unlock recovery probe', () => lock.value!.release(), undefined, true);
    }
    if (this.closed) return;
    if (failure === undefined) {
      if (!s.available) {
        s.available = true;
        s.changedAtMs = Date.now();
        this.logger.info('recognizer: provider recovered', { provider: provider.id });
        this.onChange(provider.id, true);
      }
      s.cooldownMs = this.cooldownMs;
      this.publish(provider.id, s);
      return;
    }
    s.cooldownMs = Math.min(MAX_COOLDOWN_MS, s.cooldownMs * 2);
    this.logger.debug('recognizer: recovery probe failed', {
      provider: provider.id,
      code: isSttError(failure) ? failure.code : 'PROVIDER_ERROR',
      nextProbeMs: s.cooldownMs,
    });
    this.publish(provider.id, s, toSttError(failure, provider.id));
    if (!s.available) this.schedule(provider, s);
  }

  /** Write this process's view of a provider to the fleet (no-op without a coordinator). */
  private publish(id: string, s: State, reason?: SttError): void {
    if (!this.link) return;
    const now = Date.now();
    s.changedAtMs = now; // our own write reads back as not newer
    const h: SharedHealth = s.available
      ? { available: true, changedAtMs: now }
      : {
          available: false,
          changedAtMs: now,
          cooldownMs: s.cooldownMs,
          nextProbeAtMs: now + s.cooldownMs,
          ...(reason ? { reason: { code: reason.code, message: reason.message } } : {}),
        };
    void this.link.call('publish health', (c) => c.putHealth(`health:${id}`, h));
  }

  /** Read the fleet's view of every provider and follow it. */
  private async sync(): Promise<void> {
    if (this.syncing || this.closed || !this.link) return;
    this.syncing = true;
    try {
      for (const provider of this.providers) {
        const r = await this.link.call('read health', (c) => c.getHealth(`health:${provider.id}`));
        if (!r.ok) return; // alone: keep our own view
        const s = this.states.get(provider.id);
        if (r.value && s && !this.closed) this.follow(provider, s, r.value);
      }
    } finally {
      this.syncing = false;
    }
  }

  private follow(provider: Provider, s: State, h: SharedHealth): void {
    if (h.changedAtMs <= s.changedAtMs) return; // ours is as new
    const delay = Math.max(0, (h.nextProbeAtMs ?? Date.now()) - Date.now());
    if (!h.available && s.available) {
      s.available = false;
      s.changedAtMs = h.changedAtMs;
      s.cooldownMs = h.cooldownMs ?? this.cooldownMs;
      const reason = new SttError(
        (h.reason?.code ?? 'PROVIDER_ERROR') as SttErrorCode,
        h.reason?.message ?? 'marked unavailable by another process of the fleet',
        { provider: provider.id },
      );
      this.logger.warn('recognizer: provider unavailable (reported by the fleet)', { provider: provider.id, code: reason.code });
      this.onChange(provider.id, false, reason);
      this.schedule(provider, s, delay);
    } else if (h.available && !s.available) {
      s.available = true;
      s.changedAtMs = h.changedAtMs;
      s.cooldownMs = this.cooldownMs;
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      this.logger.info('recognizer: provider recovered (probed by the fleet)', { provider: provider.id });
      this.onChange(provider.id, true);
    } else if (!h.available && !s.available && !s.probing) {
      // another process probed and failed: follow its cooldown
      s.changedAtMs = h.changedAtMs;
      s.cooldownMs = h.cooldownMs ?? s.cooldownMs;
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      this.schedule(provider, s, delay);
    }
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
