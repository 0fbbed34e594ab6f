/**
 * Drives test/fleet/worker.ts processes: one per "server" of a fleet, forked with tsx, spoken to
 * over IPC. Every request is bounded; close() waits for the process to exit (no handle left).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ScriptCursor } from '../../src/testing/index.js';
import type { CallReport, WorkerConfig } from '../fleet/worker.js';

export type { CallReport, WorkerConfig };

/**
 * A Google emulator `scriptFor` giving each call its own cursor over `script`: calls tag their
 * language (`ko-KR-x-<call>`), so concurrent calls each hear their own ground truth.
 */
export function perCallScripts(script: readonly string[], cursors = new Map<string, ScriptCursor>()) {
  return ({ languageCode }: { languageCode: string }): ScriptCursor => {
    let c = cursors.get(languageCode);
    if (!c) cursors.set(languageCode, (c = new ScriptCursor(script)));
    return c;
  };
}

const WORKER = fileURLToPath(new URL('../fleet/worker.ts', import.meta.url));

export class FleetWorker {
  /** `coordinator` events the worker's recognizer emitted (available flags, in order). */
  readonly coordinatorEvents: boolean[] = [];
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  private readonly exited: Promise<void>;

  private constructor(private readonly proc: ChildProcess) {
    proc.on('message', (m: Record<string, unknown>) => {
      if (m.event === 'coordinator') {
        this.coordinatorEvents.push(m.available as boolean);
        return;
      }
      const w = this.waiting.get(m.id as number);
      if (!w) return;
      this.waiting.delete(m.id as number);
      if (m.ok) w.resolve(m);
      else w.reject(new Error(String(m.error)));
    });
    this.exited = new Promise((resolve) =>
      proc.once('exit', (code, signal) => {
        for (const w of this.waiting.values()) w.reject(new Error(`worker exited (${code ?? signal}) before answering`));
        this.waiting.clear();
        resolve();
      }),
    );
  }

  static async start(config: WorkerConfig): Promise<FleetWorker> {
    const proc = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const w = new FleetWorker(proc);
    await w.request({ type: 'init', config });
    return w;
  }

  request(msg: Record<string, unknown>): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.proc.send({ ...msg, id });
    });
  }

  warmup(): Promise<unknown> {
    return this.request({ type: 'warmup' });
  }

  /** Run `count` concurrent calls (the sample call at `speed`× real time); resolves their reports. */
  async calls(tag: string, count: number, speed: number): Promise<CallReport[]> {
    return (await this.request({ type: 'calls', tag, count, speed })).calls as CallReport[];
  }

  /** Start one call; resolves the provider it opened on. */
  async open(tag: string, speed: number): Promise<string> {
    return (await this.request({ type: 'open', tag, speed })).provider as string;
  }

  /** Wait for a call started with {@link open} to end. */
  async finish(tag: string): Promise<CallReport> {
    return (await this.request({ type: 'finish', tag })).call as CallReport;
  }

  /** SIGKILL: the process dies mid-whatever, releasing nothing. */
  async kill(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  /** Close the recognizer and let the process exit; kills it if it has not after 10 s. */
  async close(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000);
    try {
      await this.request({ type: 'close' }).catch(() => {});
      await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
