/**
 * A stream's connection settings: what each new connection of the stream is
 * opened with (language, interim results, keywords, per-provider decoder
 * options), their validation against the stream's providers, and how
 * `stream.reconfigure()` changes them. A provider checks its own part with
 * `Provider.checkSessionOptions`, the way it checks its constructor options.
 * @module
 */
import { ConfigurationError } from '../errors/index.js';
import type { KeywordOption, Provider, SessionOptions } from '../providers/provider.js';
import type { ReconfigureOptions } from './types.js';

/** What a connection of the stream is opened with. @internal */
export interface ConnectSettings {
  language: string;
  interimResults: boolean;
  keywords?: readonly KeywordOption[];
  providerOptions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

const RECONFIGURABLE = ['language', 'interimResults', 'keywords', 'providerOptions'] as const;

/** The per-stream options `provider` is given (undefined: none, or it takes none). @internal */
export function sessionOptionsFor(provider: Provider, s: ConnectSettings): SessionOptions | undefined {
  if (typeof provider.checkSessionOptions !== 'function') return undefined;
  const decoder = s.providerOptions?.[provider.id];
  if (s.keywords === undefined && decoder === undefined) return undefined;
  const o: SessionOptions = {};
  if (s.keywords !== undefined) o.keywords = s.keywords;
  if (decoder !== undefined) o.decoder = decoder;
  return o;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A copy the caller cannot change after it was checked. */
function copyKeywords(keywords: unknown): readonly KeywordOption[] {
  if (!Array.isArray(keywords)) throw new ConfigurationError('keywords must be an array of "word" or [word, score]');
  return Object.freeze(keywords.map((k: unknown) => (Array.isArray(k) ? Object.freeze([k[0], k[1]]) : k) as KeywordOption));
}

function copyProviderOptions(v: unknown): Record<string, Readonly<Record<string, unknown>>> {
  if (!isPlainObject(v)) throw new ConfigurationError('providerOptions must be an object: { [providerId]: { option: value } }');
  const out: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const [id, opts] of Object.entries(v)) {
    if (!isPlainObject(opts)) throw new ConfigurationError(`providerOptions.${id} must be an object of that provider's options`);
    out[id] = Object.freeze({ ...opts });
  }
  return out;
}

/**
 * Check settings against the stream's providers: each provider id of `providerOptions` must be one
 * of them and take per-stream options, and every provider that takes them must accept its part.
 * @throws {@link ConfigurationError}
 * @internal
 */
export function checkConnectSettings(s: ConnectSettings, providers: readonly Provider[]): void {
  checkProviderIds(s.providerOptions ?? {}, providers);
  for (const p of providers) {
    const o = sessionOptionsFor(p, s);
    if (o) p.checkSessionOptions!(o);
  }
}

/** Every provider id of `providerOptions` is one of the stream's, and that provider takes per-stream options. */
function checkProviderIds(providerOptions: Readonly<Record<string, unknown>>, providers: readonly Provider[]): void {
  for (const id of Object.keys(providerOptions)) {
    const p = providers.find((x) => x.id === id);
    if (!p) {
      throw new ConfigurationError(`providerOptions.${id}: this stream has no provider "${id}" (it has ${providers.map((x) => `"${x.id}"`).join(', ')})`);
    }
    if (typeof p.checkSessionOptions !== 'function') {
      throw new ConfigurationError(`providerOptions.${id}: provider "${id}" takes no per-stream options`, { provider: id });
    }
  }
}

/**
 * The settings of a new stream: the stream's language and interim results, and its `keywords` and
 * `providerOptions` options, checked.
 * @throws {@link ConfigurationError}
 * @internal
 */
export function initialSettings(
  base: { language: string; interimResults: boolean },
  options: { keywords?: unknown; providerOptions?: unknown },
  providers: readonly Provider[],
): ConnectSettings {
  const s: ConnectSettings = { language: base.language, interimResults: base.interimResults };
  if (options.keywords !== undefined) s.keywords = copyKeywords(options.keywords);
  if (options.providerOptions !== undefined) s.providerOptions = Object.freeze(copyProviderOptions(options.providerOptions));
  checkConnectSettings(s, providers);
  return s;
}

/**
 * `base` changed by a `reconfigure()`: fields left out keep their value, `keywords` replaces the
 * list (`[]` clears it), `providerOptions` merges key by key (`undefined` drops a key).
 * @throws {@link ConfigurationError} for an unknown or invalid option, or one a provider rejects.
 * @internal
 */
export function reconfigured(base: ConnectSettings, changes: ReconfigureOptions, providers: readonly Provider[]): ConnectSettings {
  if (!isPlainObject(changes)) {
    throw new ConfigurationError('reconfigure() takes an object: { language?, interimResults?, keywords?, providerOptions? }');
  }
  for (const k of Object.keys(changes)) {
    if (!(RECONFIGURABLE as readonly string[]).includes(k)) {
      throw new ConfigurationError(`reconfigure(): unknown option "${k}" (it takes ${RECONFIGURABLE.join(', ')})`);
    }
  }
  const next: ConnectSettings = { ...base };
  if (changes.language !== undefined) {
    if (typeof changes.language !== 'string' || changes.language === '') {
      throw new ConfigurationError('language must be a BCP-47 string such as "ko-KR"');
    }
    next.language = changes.language;
  }
  if (changes.interimResults !== undefined) {
    if (typeof changes.interimResults !== 'boolean') throw new ConfigurationError('interimResults must be a boolean');
    next.interimResults = changes.interimResults;
  }
  if (changes.keywords !== undefined) {
    const k = copyKeywords(changes.keywords);
    if (k.length > 0) next.keywords = k;
    else delete next.keywords;
  }
  if (changes.providerOptions !== undefined) {
    const merged: Record<string, Readonly<Record<string, unknown>>> = { ...base.providerOptions };
    const given = copyProviderOptions(changes.providerOptions);
    checkProviderIds(given, providers);
    for (const [id, opts] of Object.entries(given)) {
      const m: Record<string, unknown> = { ...merged[id], ...opts };
      for (const key of Object.keys(m)) if (m[key] === undefined) delete m[key];
      if (Object.keys(m).length > 0) merged[id] = Object.freeze(m);
      else delete merged[id];
    }
    if (Object.keys(merged).length > 0) next.providerOptions = Object.freeze(merged);
    else delete next.providerOptions;
  }
  checkConnectSettings(next, providers);
  return next;
}

/** Whether two settings open the same connection. @internal */
export function sameSettings(a: ConnectSettings, b: ConnectSettings): boolean {
  return canonical(a) === canonical(b);
}

function canonical(s: ConnectSettings): string {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (isPlainObject(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortKeys(v[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sortKeys({ ...s }));
}
