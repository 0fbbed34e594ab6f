/**
 * HTTP helpers of the RTZR emulator: `{code,msg}` error bodies and JSON
 * responses.
 * @module
 * @internal
 */
import type { ServerResponse } from 'node:http';

/** RTZR REST error body. */
export interface RtzrErrorBody {
  code: string;
  msg: string;
}

/** The RTZR-style error body of an HTTP status, with an optional message override. */
export function errorBody(status: number, msg?: string): RtzrErrorBody {
  switch (status) {
    case 400:
      return { code: 'H0001', msg: msg ?? 'bad request' };
    case 401:
      return { code: 'H0002', msg: msg ?? 'invalid token' };
    case 404:
      return { code: 'H0004', msg: msg ?? 'not found' };
    case 429:
      return { code: 'A0002', msg: msg ?? 'Too many concurrent requests' };
    case 503:
      return { code: 'E503', msg: msg ?? 'service unavailable' };
    default:
      return { code: 'E500', msg: msg ?? 'internal server error' };
  }
}

/** Answer a regular HTTP request with JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

