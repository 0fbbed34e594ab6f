/**
 * gRPC status of a failed `StreamingRecognize` call → a typed `SttError`.
 * Permanent: credentials (`UNAUTHENTICATED`, `PERMISSION_DENIED`) and
 * configuration (`INVALID_ARGUMENT`, `NOT_FOUND`, `UNIMPLEMENTED`,
 * `FAILED_PRECONDITION`). Retryable: everything that ends one stream but not
 * the next (`UNAVAILABLE`, `OUT_OF_RANGE` — Google's stream limit and audio
 * timeout —, `ABORTED`, `CANCELLED` by the server, `DEADLINE_EXCEEDED`,
 * `INTERNAL`/`UNKNOWN`), and `RESOURCE_EXHAUSTED` as a rate limit.
 * Sources: https://grpc.github.io/grpc/core/md_doc_statuscodes.html,
 * https://cloud.google.com/apis/design/errors#handling_errors.
 * @module
 * @internal
 */
import {
  AuthenticationError,
  ConfigurationError,
  ConnectionError,
  ProviderError,
  RateLimitError,
  type SttError,
  TimeoutError,
  isSttError,
} from '../../../errors/index.js';
import { durationMs } from '../recognize.js';

/** Canonical names of the gRPC status codes. */
export const GRPC_STATUS = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

/** The server's `RetryInfo.retryDelay` (gax decodes it into `statusDetails`), ms. */
function retryDelayMs(err: { statusDetails?: unknown }): number | undefined {
  const details = Array.isArray(err.statusDetails) ? err.statusDetails : [];
  for (const d of details) {
    const delay = (d as { retryDelay?: unknown } | null)?.retryDelay;
    if (delay !== undefined) return durationMs(delay);
  }
  return undefined;
}

/** Map a gRPC status (code and details) to a typed error. */
export function grpcStatusError(provider: string, code: number, details: string, cause?: unknown, statusDetails?: unknown): SttError {
  const name = GRPC_STATUS[code] ?? 'UNKNOWN';
  const message = `Google StreamingRecognize failed: ${name}${details ? ` (${details.slice(0, 200)})` : ''}`;
  const base = { provider, providerCode: name, ...(cause === undefined ? {} : { cause }) };
  switch (name) {
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return new AuthenticationError(message, { ...base, retryable: false });
    case 'INVALID_ARGUMENT':
    case 'NOT_FOUND':
    case 'UNIMPLEMENTED':
    case 'ALREADY_EXISTS':
      return new ConfigurationError(message, base);
    case 'FAILED_PRECONDITION':
      return new ProviderError(message, { ...base, retryable: false });
    case 'RESOURCE_EXHAUSTED': {
      const after = retryDelayMs({ statusDetails });
      return new RateLimitError(message, after === undefined ? base : { ...base, retryAfterMs: after });
    }
    case 'DEADLINE_EXCEEDED':
      return new TimeoutError(message, base);
    case 'UNAVAILABLE':
    case 'OUT_OF_RANGE':
    case 'ABORTED':
    case 'CANCELLED':
      // The stream ended (server restart, Google's stream limit or audio timeout): a new stream works.
      return new ConnectionError('CONNECTION_LOST', message, base);
    default:
      return new ProviderError(message, { ...base, retryable: true });
  }
}

/** Map whatever a gax call emitted as `'error'` (a `GoogleError` with a numeric `code`, or anything). */
export function streamError(provider: string, err: unknown): SttError {
  if (isSttError(err)) return err;
  const e = (err ?? {}) as { code?: unknown; details?: unknown; message?: unknown; statusDetails?: unknown };
  if (typeof e.code === 'number') {
    const details = typeof e.details === 'string' ? e.details : typeof e.message === 'string' ? e.message : '';
    return grpcStatusError(provider, e.code, details, err, e.statusDetails);
  }
  return new ProviderError(`Google StreamingRecognize failed: ${typeof e.message === 'string' ? e.message : String(err)}`, {
    provider,
    cause: err,
  });
}
