/**
 * The generic concurrency budget of the provider base: wraps a provider that
 * declares `concurrency` (and does not manage leases itself) so that every
 * session holds a lease from before `connect()` until it ends, fails or is
 * aborted.
 * @module
 * @internal
 */
import type { ConnectRequest, EndOutcome, Provider, ProviderSession, SessionCosts } from '../providers/provider.js';
import type { ConcurrencyBudget, Lease } from './budget.js';

class LeasedSession implements ProviderSession {
  constructor(
    private readonly inner: ProviderSession,
    private readonly lease: Lease,
  ) {}

  get costs(): SessionCosts {
    return this.inner.costs;
  }

  get bufferedAmount(): number {
    return this.inner.bufferedAmount;
  }

  send(audio: Uint8Array, onSent?: () => void): void {
    this.inner.send(audio, onSent);
  }

  finalize(): void {
    this.inner.finalize();
  }

  async end(timeoutMs: number): Promise<EndOutcome> {
    try {
      return await this.inner.end(timeoutMs);
    } finally {
      this.lease.release();
    }
  }

  abort(): void {
    this.inner.abort();
    this.lease.release();
  }
}

/**
 * A provider whose sessions hold leases of `budget`. Same id, capabilities, frame size, stream limits
 * and per-stream option check; `warmup` and `close` go to the provider itself.
 * @internal
 */
export function withBudget(provider: Provider, budget: ConcurrencyBudget): Provider {
  const leased = async (signal: AbortSignal, request: ConnectRequest): Promise<ProviderSession> => {
    const lease = await budget.acquire(signal);
    try {
      const session = await provider.connect({
        ...request,
        onError: (e) => {
          lease.release();
          request.onError(e);
        },
      });
      return new LeasedSession(session, lease);
    } catch (err) {
      lease.release();
      throw err;
    }
  };
  const wrapped: Provider = {
    id: provider.id,
    capabilities: provider.capabilities,
    concurrency: provider.concurrency,
    connect: (request) => leased(request.signal, request),
  };
  if (provider.chunkMs !== undefined) Object.assign(wrapped, { chunkMs: provider.chunkMs });
  if (provider.maxStreamMs !== undefined) Object.assign(wrapped, { maxStreamMs: provider.maxStreamMs });
  if (provider.rotateAfterMs !== undefined) Object.assign(wrapped, { rotateAfterMs: provider.rotateAfterMs });
  if (provider.checkSessionOptions) wrapped.checkSessionOptions = (options) => provider.checkSessionOptions!(options);
  if (provider.probe) {
    wrapped.probe = async (signal) => {
      const lease = await budget.acquire(signal);
      try {
        await provider.probe!(signal);
      } finally {
        lease.release();
      }
    };
  }
  return wrapped;
}
