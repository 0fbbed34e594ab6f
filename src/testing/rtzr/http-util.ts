/**
 * HTTP helpers of the RTZR emulator: `{code,msg}` error bodies, JSON
 * responses, and HTTP rejections written on a raw upgrade socket.
 * @module
 * @internal
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

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

/**
 * Write a complete HTTP error response on an upgrade socket, then close it, so a
 * WebSocket client sees the status (and can read the JSON body).
 */
export function rejectUpgrade(socket: Duplex, status: number, body: unknown): void {
  if (socket.destroyed) return;
  const text = JSON.stringify(body);
  socket.once('finish', () => socket.destroy());
  socket.once('error', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Connection: close\r\n' +
      'Content-Type: application/json\r\n' +
      `Content-Length: ${Buffer.byteLength(text)}\r\n` +
      '\r\n' +
      text,
  );
}
