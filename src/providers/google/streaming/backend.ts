/**
 * The provider-level half of `GoogleProvider({ mode: 'streaming' })`: loads
 * `@google-cloud/speech` on first use, owns one `SpeechClient` (one gRPC
 * channel, HTTP/2, shared by every stream of the process), checks credentials
 * and the channel before a session starts, and opens sessions.
 * @module
 * @internal
 */
import { AbortError, AuthenticationError, ConfigurationError, ConnectionError, TimeoutError, isSttError } from '../../../errors/index.js';
import type { ConnectRequest, ProviderCapabilities, ProviderSession } from '../../provider.js';
import { streamError } from './errors.js';
import { loadSpeechModules, type GrpcChannel, type SpeechClientLike } from './module.js';
import type { ResolvedStreamingOptions } from './options.js';
import { configRequest } from './requests.js';
import { GoogleStreamingSession } from './session.js';

/** gRPC connectivity states (grpc-js `ConnectivityState`). */
const READY = 2;
const TRANSIENT_FAILURE = 3;
const SHUTDOWN = 4;

/** @internal */
export class GoogleStreamingBackend {
  readonly capabilities: ProviderCapabilities;
  // ES private fields: the options and the client hold credentials, and util.inspect() or
  // JSON.stringify() of a provider must not show them.
  readonly #o: ResolvedStreamingOptions;
  #clientPromise: Promise<SpeechClientLike> | undefined;
  #client: SpeechClientLike | undefined;
  private projectId: string | undefined;
  private tokenFetched = false;
  private closed = false;

  constructor(o: ResolvedStreamingOptions) {
    this.#o = o;
    this.projectId = o.projectId;
    this.capabilities = Object.freeze({
      streaming: true,
      interimResults: true,
      wordTimings: o.wordTimeOffsets,
      serverEndpointing: true,
      encodings: o.version === 'v1' ? (['linear16', 'mulaw'] as const) : (['linear16', 'mulaw', 'alaw'] as const),
      sampleRates: { min: 8000, max: 48000 },
      preferredSampleRate: 16000,
    });
  }

  get id(): string {
    return this.#o.id;
  }

  /** The provider's redacted view in streaming mode: no API key, credentials or token. */
  toJSON(): Record<string, unknown> {
    const o = this.#o;
    return {
      mode: 'streaming',
      version: o.version,
      servicePath: o.servicePath,
      port: o.port,
      ...(o.projectId === undefined ? {} : { projectId: o.projectId }),
      location: o.location,
      auth: o.auth.kind === 'serviceAccount' ? { kind: o.auth.kind, client_email: o.auth.credentials.client_email } : o.auth.kind,
      ...(o.model === undefined ? {} : { model: o.model }),
      maxStreamMs: o.maxStreamMs,
      rotateAfterMs: o.rotateAfterMs,
    };
  }

  /** Load the package, check credentials, open the channel. */
  async warmup(): Promise<void> {
    const client = await this.getClient();
    await this.authorize(client);
    await this.waitReady(client, new AbortController().signal);
  }

  /**
   * Health check: a real `StreamingRecognize` with 100 ms of silence, half-closed; resolves when
   * Google ends it with `OK`.
   */
  async probe(signal: AbortSignal): Promise<void> {
    const client = await this.getClient();
    await this.authorize(client);
    await this.waitReady(client, signal);
    const config = configRequest(this.#o, { encoding: 'linear16', sampleRate: 16000, channels: 1 }, 'en-US', await this.recognizer(client));
    const call = client._streamingRecognize();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new TimeoutError('Google probe stream did not end in time', { provider: this.#o.id })), this.#o.connectTimeoutMs);
      const onAbort = (): void => done(new AbortError('probe aborted', { provider: this.#o.id }));
      const done = (err?: unknown): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err === undefined) resolve();
        else {
          call.cancel();
          reject(isSttError(err) ? err : streamError(this.#o.id, err));
        }
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.on('data', () => {});
      call.on('end', () => done());
      call.on('error', (err: unknown) => done(err ?? new Error('probe failed')));
      call.write(config);
      call.write(this.#o.version === 'v1' ? { audioContent: Buffer.alloc(3200) } : { audio: Buffer.alloc(3200) });
      call.end();
    });
  }

  /** Open a session: credentials and channel first, so a dead endpoint or bad key fails here. */
  async connect(request: ConnectRequest): Promise<ProviderSession> {
    if (this.closed) throw new AbortError('provider is closed', { provider: this.#o.id });
    const client = await this.getClient();
    const t0 = performance.now();
    const tokenCached = await this.authorize(client);
    const t1 = performance.now();
    await this.waitReady(client, request.signal);
    const recognizer = await this.recognizer(client);
    const connectMs = Math.round(performance.now() - t1);
    if (request.signal.aborted) throw new AbortError('stream aborted while connecting', { provider: this.#o.id });
    const session = new GoogleStreamingSession({
      provider: this.#o.id,
      version: this.#o.version,
      client,
      config: configRequest(this.#o, request.format, request.language, recognizer),
      format: request.format,
      costs: { tokenMs: tokenCached ? 0 : Math.round(t1 - t0), tokenCached, connectMs, prewarmed: false },
      burstMs: this.#o.burstMs,
      idleMs: this.#o.idleMs,
      maxQueuedMs: this.#o.maxQueuedMs,
      includeRaw: request.includeRaw ?? false,
      logger: request.logger,
      onResult: (r) => request.onResult(r),
      onError: (e) => request.onError(e),
    });
    request.signal.addEventListener('abort', () => session.abort(), { once: true });
    return session;
  }

  /** Close the gRPC channel. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const client = this.#client ?? (await this.#clientPromise?.catch(() => undefined));
    await client?.close().catch(() => undefined);
  }

  /** The provider's `SpeechClient` (created once; a failed load is retried on the next call). */
  private getClient(): Promise<SpeechClientLike> {
    if (this.closed) return Promise.reject(new AbortError('provider is closed', { provider: this.#o.id }));
    this.#clientPromise ??= this.createClient().catch((err: unknown) => {
      this.#clientPromise = undefined;
      throw err;
    });
    return this.#clientPromise;
  }

  private async createClient(): Promise<SpeechClientLike> {
    const o = this.#o;
    const modules = await loadSpeechModules(o.load, o.auth.kind === 'plaintext');
    const options: Record<string, unknown> = { servicePath: o.servicePath, port: o.port, fallback: false };
    if (this.projectId !== undefined) options.projectId = this.projectId;
    switch (o.auth.kind) {
      case 'plaintext':
        // No credentials at all; the universe domain is given so google-auth-library looks nothing up.
        options.grpc = modules.grpc;
        options.sslCreds = modules.grpc!.credentials.createInsecure();
        options.universeDomain = 'googleapis.com';
        break;
      case 'apiKey':
        options.apiKey = o.auth.apiKey; // sent as `x-goog-api-key` by google-auth-library
        break;
      case 'serviceAccount':
        options.credentials = o.auth.credentials;
        break;
      case 'adc':
        break; // GOOGLE_APPLICATION_CREDENTIALS, gcloud credentials or the metadata server
    }
    let client: SpeechClientLike;
    try {
      client = new (o.version === 'v1' ? modules.v1 : modules.v2)(options);
    } catch (err) {
      throw new ConfigurationError(`Google SpeechClient rejected its options: ${(err as Error)?.message ?? String(err)}`, {
        provider: o.id,
        cause: err,
      });
    }
    if (this.closed) {
      await client.close().catch(() => undefined);
      throw new AbortError('provider is closed', { provider: o.id });
    }
    this.#client = client;
    return client;
  }

  /**
   * Get an OAuth2 access token ahead of the call (service account, ADC), so bad credentials fail
   * as `AUTH_FAILED` instead of a retried gRPC `UNAVAILABLE`. Resolves whether it was cached.
   */
  private async authorize(client: SpeechClientLike): Promise<boolean> {
    const kind = this.#o.auth.kind;
    if (kind !== 'serviceAccount' && kind !== 'adc') return true;
    const cached = this.tokenFetched;
    try {
      await client.auth.getAccessToken();
    } catch (err) {
      const status = (err as { response?: { status?: unknown }; status?: unknown } | null)?.response?.status;
      const retryable = typeof status === 'number' && (status >= 500 || status === 429);
      // No `cause`: google-auth-library's errors carry the request (the signed assertion).
      throw new AuthenticationError(`Google credentials could not produce an access token: ${(err as Error)?.message ?? String(err)}`.slice(0, 300), {
        provider: this.#o.id,
        retryable,
        ...(typeof status === 'number' ? { status } : {}),
      });
    }
    this.tokenFetched = true;
    return cached;
  }

  /** Wait until the gRPC channel is connected (fails fast on a refused or unreachable endpoint). */
  private async waitReady(client: SpeechClientLike, signal: AbortSignal): Promise<void> {
    await client.initialize();
    const stub = (await client.speechStub) as { getChannel?: () => GrpcChannel } | undefined;
    const channel = stub?.getChannel?.();
    if (!channel) return;
    const deadline = Date.now() + this.#o.connectTimeoutMs;
    const where = `${this.#o.servicePath}:${this.#o.port}`;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (signal.aborted) return reject(new AbortError('stream aborted while connecting', { provider: this.#o.id }));
        const state = channel.getConnectivityState(true);
        if (state === READY) return resolve();
        if (state === TRANSIENT_FAILURE) {
          return reject(new ConnectionError('CONNECTION_FAILED', `Google gRPC endpoint ${where} is unreachable`, { provider: this.#o.id }));
        }
        if (state === SHUTDOWN) return reject(new AbortError('provider is closed', { provider: this.#o.id }));
        channel.watchConnectivityState(state, deadline, (err) => {
          if (err) reject(new TimeoutError(`connecting to Google gRPC endpoint ${where} took longer than ${this.#o.connectTimeoutMs} ms`, { provider: this.#o.id }));
          else check();
        });
      };
      check();
    });
  }

  /** The v2 recognizer resource (project discovered from the credentials when not configured). */
  private async recognizer(client: SpeechClientLike): Promise<string | undefined> {
    if (this.#o.version === 'v1') return undefined;
    if (this.#o.recognizer) return this.#o.recognizer;
    if (this.projectId === undefined) {
      try {
        this.projectId = await client.getProjectId();
      } catch (err) {
        throw new ConfigurationError('version "v2" needs a project: set projectId (or env GOOGLE_CLOUD_PROJECT)', { provider: this.#o.id, cause: err });
      }
    }
    return `projects/${this.projectId}/locations/${this.#o.location}/recognizers/_`;
  }
}
