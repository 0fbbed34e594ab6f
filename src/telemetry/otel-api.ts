/**
 * Loads the optional peer dependency `@opentelemetry/api`, synchronously and
 * only when telemetry is asked for (a guarded `require`, so streams created
 * right after `new StreamingRecognizer()` are already traced). Absent → `undefined`.
 * @module
 * @internal
 */
import { createRequire } from 'node:module';
import type * as OtelApiModule from '@opentelemetry/api';

/** The `@opentelemetry/api` module. @internal */
export type OtelApi = typeof OtelApiModule;

/** What loading found. @internal */
export type OtelApiLoad = { api: OtelApi } | { api?: undefined; reason: string };

let loaded: OtelApiLoad | undefined;

/**
 * `@opentelemetry/api`, resolved from this package's location (where a peer dependency is
 * installed), once per process. The API keeps its registered providers on `globalThis`, so this
 * copy sees the SDK an application registered through its own import. @internal
 */
export function loadOtelApi(): OtelApiLoad {
  if (loaded) return loaded;
  try {
    const api = createRequire(import.meta.url)('@opentelemetry/api') as OtelApi;
    loaded = typeof api?.trace?.getTracerProvider === 'function' ? { api } : { reason: '@opentelemetry/api has no trace API' };
  } catch (err) {
    const code = (err as { code?: string }).code;
    loaded = {
      reason:
        code === 'MODULE_NOT_FOUND'
          ? '@opentelemetry/api is not installed (npm install @opentelemetry/api)'
          : `@opentelemetry/api could not be loaded (${code ?? (err as Error).message})`,
    };
  }
  return loaded;
}
