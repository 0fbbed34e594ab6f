/**
 * Loading the optional peer dependency `@google-cloud/speech` (and, for a
 * plaintext emulator endpoint, `@grpc/grpc-js`) with `import()`, only in
 * streaming mode, plus the structural types of what this provider uses of
 * them, so their own types never reach this package's public types.
 * @module
 * @internal
 */
import type { EventEmitter } from 'node:events';
import { ConfigurationError } from '../../../errors/index.js';

/** Loads a module by specifier (default: `import()`); a seam for tests. @internal */
export type ModuleLoader = (specifier: string) => Promise<unknown>;

/** The peer range this provider supports (7.x runs on Node 20; 8.x needs Node 22). */
export const SPEECH_PEER_RANGE = '^7.0.0 || ^8.0.0';
const SPEECH_INSTALL = 'npm install @google-cloud/speech@^7';

/** A gax bidi `StreamingRecognize` call (a Duplex in object mode plus `cancel()`). @internal */
export interface GrpcCall extends EventEmitter {
  write(message: unknown): boolean;
  end(): void;
  cancel(): void;
}

/** A `@grpc/grpc-js` channel (the parts used). @internal */
export interface GrpcChannel {
  getConnectivityState(tryToConnect: boolean): number;
  watchConnectivityState(currentState: number, deadline: number, callback: (error?: Error) => void): void;
}

/** A v1 or v2 `SpeechClient` of `@google-cloud/speech` (the parts used). @internal */
export interface SpeechClientLike {
  /** The raw bidi call: the first request carries the config, later ones the audio. */
  _streamingRecognize(options?: Record<string, unknown>): GrpcCall;
  initialize(): Promise<unknown>;
  close(): Promise<void>;
  getProjectId(): Promise<string>;
  readonly auth: { getAccessToken(): Promise<unknown> };
  readonly speechStub?: Promise<unknown>;
}

/** @internal */
export type SpeechClientConstructor = new (options: Record<string, unknown>) => SpeechClientLike;

/** What the provider needs from the loaded packages. @internal */
export interface SpeechModules {
  v1: SpeechClientConstructor;
  v2: SpeechClientConstructor;
  /** `@grpc/grpc-js`, loaded only for a plaintext endpoint. */
  grpc?: { credentials: { createInsecure(): unknown } };
}

/** `import()` of a specifier (kept a variable so bundlers leave the optional package external). */
export const importModule: ModuleLoader = (specifier) => import(specifier);

function isMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function loadOne(load: ModuleLoader, specifier: string, install: string): Promise<Record<string, unknown>> {
  let ns: unknown;
  try {
    ns = await load(specifier);
  } catch (err) {
    throw new ConfigurationError(
      isMissing(err)
        ? `GoogleProvider mode "streaming" needs the optional package ${specifier}, which is not installed: ${install}`
        : `GoogleProvider mode "streaming" could not load ${specifier} (${(err as Error)?.message ?? String(err)}): ${install}`,
      { provider: 'google', cause: err },
    );
  }
  const o = (ns ?? {}) as Record<string, unknown>;
  return (o.v1 || o.credentials ? o : ((o.default ?? o) as Record<string, unknown>)) ?? {};
}

/**
 * Load `@google-cloud/speech` (and `@grpc/grpc-js` when `plaintext`).
 * @throws {@link ConfigurationError} naming the missing package and the install command.
 */
export async function loadSpeechModules(load: ModuleLoader, plaintext: boolean): Promise<SpeechModules> {
  const speech = await loadOne(load, '@google-cloud/speech', SPEECH_INSTALL);
  const v1 = (speech.v1 as { SpeechClient?: unknown } | undefined)?.SpeechClient;
  const v2 = (speech.v2 as { SpeechClient?: unknown } | undefined)?.SpeechClient;
  if (typeof v1 !== 'function' || typeof v2 !== 'function') {
    throw new ConfigurationError(`the installed @google-cloud/speech has no v1/v2 SpeechClient; this provider supports ${SPEECH_PEER_RANGE}`, {
      provider: 'google',
    });
  }
  const modules: SpeechModules = { v1: v1 as SpeechClientConstructor, v2: v2 as SpeechClientConstructor };
  if (plaintext) {
    const grpc = await loadOne(load, '@grpc/grpc-js', 'npm install @grpc/grpc-js (needed for a plaintext http:// endpoint, e.g. the emulator)');
    if (typeof (grpc.credentials as { createInsecure?: unknown } | undefined)?.createInsecure !== 'function') {
      throw new ConfigurationError('the installed @grpc/grpc-js has no credentials.createInsecure()', { provider: 'google' });
    }
    modules.grpc = grpc as unknown as SpeechModules['grpc'];
  }
  return modules;
}
