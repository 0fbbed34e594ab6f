/**
 * Validation of provider option values, shared by the providers whose options
 * are URLs, integer durations and header maps. Each check throws a
 * `ConfigurationError` (`INVALID_CONFIG`) naming the provider and the option.
 * @module
 * @internal
 */
import { ConfigurationError } from '../errors/index.js';

/** A ConfigurationError naming the provider. */
export function configError(provider: string, message: string): ConfigurationError {
  return new ConfigurationError(message, { provider });
}

/** Validate a `ws:`/`wss:` URL; returns it unchanged. */
export function checkWsUrl(provider: string, name: string, value: unknown): string {
  if (typeof value !== 'string') throw configError(provider, `${name} must be a string`);
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw configError(provider, `${name} is not a valid URL`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
    throw configError(provider, `${name} must use ws: or wss: (got ${u.protocol})`);
  }
  return value;
}

/** Validate an integer in `[min, max]`; returns it. */
export function checkInt(provider: string, name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw configError(provider, `${name} must be an integer from ${min} to ${max} (got ${String(value)})`);
  }
  return value;
}

/** Validate a boolean; returns it. */
export function checkBool(provider: string, name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw configError(provider, `${name} must be a boolean`);
  return value;
}

/** Validate a map of header names to string values; returns a copy. */
export function checkHeaders(provider: string, headers: unknown): Record<string, string> | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw configError(provider, 'headers must be an object of strings');
  }
  for (const [k, v] of Object.entries(headers)) {
    if (typeof v !== 'string') throw configError(provider, `header ${k} must be a string`);
  }
  return { ...(headers as Record<string, string>) };
}
