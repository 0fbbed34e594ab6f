/**
 * Fails a test file that leaves sockets, servers or timers behind.
 *
 * Compares Node's active resources after the file's last test with those
 * before its first one (vitest's own handles are in the baseline). A short
 * grace period lets sockets that were closed finish closing.
 */
import { afterAll, beforeAll } from 'vitest';

const WATCHED = new Set(['TCPSocketWrap', 'TCPServerWrap', 'Timeout', 'Immediate', 'PipeWrap', 'TTYWrap']);

function count(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) if (WATCHED.has(r)) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

let baseline = new Map<string, number>();

beforeAll(() => {
  baseline = count();
});

afterAll(async () => {
  let leaked: string[] = [];
  for (let i = 0; i < 40; i++) {
    const now = count();
    leaked = [];
    for (const [k, v] of now) {
      const extra = v - (baseline.get(k) ?? 0);
      if (extra > 0) leaked.push(`${k} x${extra}`);
    }
    if (leaked.length === 0) return;
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 25).unref());
  }
  throw new Error(`leaked handles after this test file: ${leaked.join(', ')}`);
});
