/**
 * Bench process plumbing: fork a TypeScript worker (through tsx) and talk to
 * it with request/response messages over the IPC channel. Every request and
 * every child run is bounded in time; a child that overstays is killed.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

interface Envelope {
  id: number;
  ok?: boolean;
  result?: unknown;
  error?: string;
}

/** A forked worker answering requests. */
export class Worker {
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private exited = false;

  /** @param file - path relative to bench/ (e.g. `lib/emulator-host.ts`). */
  constructor(file: string, execArgv: string[] = []) {
    const path = fileURLToPath(new URL(`../${file}`, import.meta.url));
    this.proc = fork(path, [], { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.proc.on('message', (m: Envelope) => {
      const w = this.waiting.get(m.id);
      if (!w) return;
      this.waiting.delete(m.id);
      clearTimeout(w.timer);
      if (m.ok) w.resolve(m.result);
      else w.reject(new Error(m.error ?? 'worker failed'));
    });
    this.proc.on('exit', (code) => {
      this.exited = true;
      for (const w of this.waiting.values()) {
        clearTimeout(w.timer);
        w.reject(new Error(`${file} exited (code ${code}) before answering`));
      }
      this.waiting.clear();
    });
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Send a request; rejects after `timeoutMs`. */
  request<T>(msg: Record<string, unknown>, timeoutMs = 60_000): Promise<T> {
    if (this.exited) return Promise.reject(new Error('worker has exited'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`worker request ${String(msg.type)} timed out after ${timeoutMs} ms`));
        this.kill();
      }, timeoutMs);
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ ...msg, id });
    });
  }

  /** Ask the worker to exit; kill it if it has not after 2 s. */
  async close(): Promise<void> {
    if (this.exited) return;
    const exited = new Promise<void>((r) => this.proc.once('exit', () => r()));
    this.proc.disconnect();
    const timer = setTimeout(() => this.kill(), 2000);
    await exited;
    clearTimeout(timer);
  }

  kill(): void {
    if (!this.exited) this.proc.kill('SIGKILL');
  }
}

/** Run a one-shot worker: send it `input`, wait for its result, let it exit. */
export async function runWorker<T>(file: string, input: Record<string, unknown>, timeoutMs: number, execArgv: string[] = []): Promise<T> {
  const w = new Worker(file, execArgv);
  try {
    return await w.request<T>({ type: 'run', input }, timeoutMs);
  } finally {
    await w.close();
  }
}

/** Worker side: answer requests with `handler`; exit when the parent goes away. */
export function serve(handler: (msg: Record<string, unknown>) => Promise<unknown>): void {
  process.on('message', (m: Record<string, unknown> & { id: number }) => {
    handler(m).then(
      (result) => process.send?.({ id: m.id, ok: true, result }),
      (err: unknown) => process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
}
