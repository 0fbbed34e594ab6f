/**
 * Machine-wide CPU use from /proc/stat (Linux), to tell how busy the machine
 * was during a run: the bench may share its cores with other work, and a
 * loaded machine shows up as event-loop delay in the client under test.
 * Elsewhere every function returns undefined and runs are not gated.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface CpuSample {
  busy: number;
  total: number;
}

/** Jiffies spent busy and in total, all CPUs. */
export function cpuSample(): CpuSample | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
    const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
    return { busy: total - idle, total };
  } catch {
    return undefined;
  }
}

/** Cores busy on average between two samples. */
export function busyCores(a: CpuSample | undefined, b: CpuSample | undefined): number | undefined {
  if (!a || !b || b.total <= a.total) return undefined;
  return ((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Wait until the machine has been quieter than `maxBusyCores` for one second (our own bench
 * processes are idle at that point), at most `maxWaitMs`. Returns the last reading.
 */
export async function waitForQuiet(maxBusyCores: number, maxWaitMs: number): Promise<{ busyCores?: number; waitedMs: number }> {
  const t0 = performance.now();
  for (let i = 0; i < 120; i++) {
    const a = cpuSample();
    await sleep(1000);
    const busy = busyCores(a, cpuSample());
    const waitedMs = Math.round(performance.now() - t0);
    if (busy === undefined || busy < maxBusyCores || waitedMs >= maxWaitMs) return { busyCores: busy, waitedMs };
  }
  return { waitedMs: Math.round(performance.now() - t0) };
}
