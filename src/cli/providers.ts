/**
 * Which providers a command runs against: real ones configured by the
 * environment and flags, or the built-in emulators (`--emulator`, or when
 * nothing is configured). Emulators share one ground-truth script, so a
 * fallback continues the call where it got to.
 * @module
 */
import type { Provider } from '../providers/provider.js';
import { FasterWhisperProvider } from '../providers/faster-whisper/faster-whisper-provider.js';
import { GoogleProvider } from '../providers/google/google-provider.js';
import { RtzrProvider } from '../providers/rtzr/rtzr-provider.js';
import { WhisperLiveProvider } from '../providers/whisperlive/whisperlive-provider.js';
import { startFasterWhisperEmulator } from '../testing/faster-whisper/index.js';
import { startGoogleEmulator } from '../testing/google/index.js';
import { startRtzrEmulator } from '../testing/rtzr/index.js';
import { ScriptCursor } from '../testing/script-cursor.js';
import { startWhisperLiveEmulator } from '../testing/whisperlive/index.js';
import type { ProviderFlags, ProviderId } from './args.js';
import { UsageError } from './errors.js';

/** The providers of a run. */
export interface ProviderSetup {
  providers: Provider[];
  /** Emulated providers, and where they listen (for the notice). */
  emulated: { id: ProviderId; address: string }[];
  /** The emulators' shared script (reset it for a new call). */
  cursor: ScriptCursor;
  /** Close providers, then emulators. */
  close(): Promise<void>;
}

/** Latencies of the emulators, the seeds' measurements (as `npm run demo` uses). */
const RTZR_LATENCY = { authMs: 500, connectMs: 300, processingMs: 150 };
const GOOGLE_LATENCY = { processingMs: 250 };

/** Provider ids the environment and flags configure, in the default priority order. */
export function configuredProviders(flags: ProviderFlags, env: NodeJS.ProcessEnv = process.env): ProviderId[] {
  const ids: ProviderId[] = [];
  if (env.RTZR_CLIENT_ID && env.RTZR_CLIENT_SECRET) ids.push('rtzr');
  if (env.GOOGLE_API_KEY || env.GOOGLE_APPLICATION_CREDENTIALS) ids.push('google');
  if (flags.whisperUrl) ids.push('whisper');
  if (flags.whisperliveUrl) ids.push('whisperlive');
  return ids;
}

const MISSING: Record<ProviderId, string> = {
  rtzr: 'set RTZR_CLIENT_ID and RTZR_CLIENT_SECRET',
  google: 'set GOOGLE_API_KEY or GOOGLE_APPLICATION_CREDENTIALS',
  whisper: 'pass --whisper-url',
  whisperlive: 'pass --whisperlive-url',
};

/**
 * Decide between real providers and emulators: `emulate` is true with `--emulator`, or when
 * nothing is configured (`reason` then says so).
 * @throws {@link UsageError} when `--providers` names a provider that is not configured.
 */
export function planProviders(flags: ProviderFlags, env: NodeJS.ProcessEnv = process.env): { ids: ProviderId[]; emulate: boolean; reason?: string } {
  if (flags.emulator) return { ids: flags.providers ?? ['rtzr', 'google'], emulate: true };
  const configured = configuredProviders(flags, env);
  if (flags.providers) {
    for (const id of flags.providers) {
      if (!configured.includes(id)) throw new UsageError(`provider "${id}" is not configured: ${MISSING[id]} (or pass --emulator)`);
    }
    return { ids: flags.providers, emulate: false };
  }
  if (configured.length > 0) return { ids: configured, emulate: false };
  return {
    ids: ['rtzr', 'google'],
    emulate: true,
    reason:
      'no provider credentials in the environment (RTZR_CLIENT_ID/RTZR_CLIENT_SECRET, GOOGLE_API_KEY, ' +
      'GOOGLE_APPLICATION_CREDENTIALS) and no --whisper-url',
  };
}

/** Real providers, configured from the environment and flags. Constructors validate (ConfigurationError). */
export function realProviders(ids: ProviderId[], flags: ProviderFlags): ProviderSetup {
  const providers = ids.map((id): Provider => {
    switch (id) {
      case 'rtzr':
        return new RtzrProvider();
      case 'google':
        return new GoogleProvider();
      case 'whisper':
        return new FasterWhisperProvider({ url: flags.whisperUrl! });
      case 'whisperlive':
        return new WhisperLiveProvider({ url: flags.whisperliveUrl! });
    }
  });
  return {
    providers,
    emulated: [],
    cursor: new ScriptCursor([]),
    close: async () => {
      await Promise.all(providers.map((p) => p.close?.()));
    },
  };
}

/** Start the emulators of `ids` (127.0.0.1, random ports) speaking `script`, and providers pointed at them. */
export async function emulatedProviders(ids: ProviderId[], script: readonly string[]): Promise<ProviderSetup> {
  const cursor = new ScriptCursor(script);
  const closers: (() => Promise<void>)[] = [];
  const providers: Provider[] = [];
  const emulated: ProviderSetup['emulated'] = [];
  const close = async (): Promise<void> => {
    await Promise.all(providers.map((p) => p.close?.()));
    await Promise.all(closers.map((c) => c()));
  };
  try {
    for (const id of ids) {
      switch (id) {
        case 'rtzr': {
          const e = await startRtzrEmulator({ script: cursor, latency: RTZR_LATENCY });
          closers.push(() => e.close());
          providers.push(new RtzrProvider({ apiBase: e.apiBase, websocketUrl: e.websocketUrl, ...e.credentials }));
          emulated.push({ id, address: e.apiBase });
          break;
        }
        case 'google': {
          const e = await startGoogleEmulator({ script: cursor, latency: GOOGLE_LATENCY });
          closers.push(() => e.close());
          // one request at a time: the emulator hands out script lines in request arrival order
          providers.push(new GoogleProvider({ endpoint: e.endpoint, apiKey: e.apiKey, maxConcurrentRequests: 1 }));
          emulated.push({ id, address: e.endpoint });
          break;
        }
        case 'whisper': {
          const e = await startFasterWhisperEmulator({ script: cursor });
          closers.push(() => e.close());
          providers.push(new FasterWhisperProvider({ url: e.url, chunkDurationMs: e.chunkDurationMs, overlapDurationMs: e.overlapDurationMs }));
          emulated.push({ id, address: e.url });
          break;
        }
        case 'whisperlive': {
          const e = await startWhisperLiveEmulator({ script: [...script] });
          closers.push(() => e.close());
          providers.push(new WhisperLiveProvider({ url: e.url }));
          emulated.push({ id, address: e.url });
          break;
        }
      }
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { providers, emulated, cursor, close };
}
