/**
 * `streaming-stt check`: for each configured provider, what a first call of a
 * deployment does (an access token, a connection, 100 ms of silence, a clean
 * end, and the provider's own probe where it has one), timed, with the typed
 * error of the step that failed.
 * @module
 */
import { bytesPerSample, type AudioEncoding, type AudioFormat } from '../audio/format.js';
import { isSttError, TimeoutError, type SttError } from '../errors/index.js';
import { silentLogger } from '../logger.js';
import type { Provider, ProviderSession } from '../providers/provider.js';
import type { CheckCommand } from './args.js';
import { EXIT } from './errors.js';
import { note, wantsJson, type Io } from './io.js';
import { emulatedProviders, planProviders, realProviders } from './providers.js';
import { formatTable } from './render/table.js';

/** Audio sent to each provider, ms. */
const SILENCE_MS = 100;

/** What checking one provider measured. */
export interface CheckResult {
  provider: string;
  ok: boolean;
  /** Where it failed: `connect` (token + handshake), `audio`, `end` or `probe`. */
  stage?: 'connect' | 'audio' | 'end' | 'probe';
  error?: { code: string; message: string };
  /** Wall time of `connect()`, ms. */
  connectWallMs?: number;
  /** Token wait, ms (0 when cached). */
  tokenMs?: number;
  tokenCached?: boolean;
  /** Handshake, ms. */
  connectMs?: number;
  /** How the session ended after the silence: `closed` (clean) or `timeout`. */
  end?: 'closed' | 'timeout';
  /** Time from sending the silence and ending to the session's close, ms. */
  endMs?: number;
  /** Results the provider sent for the silence (normally 0). */
  results?: number;
  /** The provider's probe (e.g. Google: recognise 100 ms of silence), ms; absent when it has none. */
  probeMs?: number;
}

function silence(encoding: AudioEncoding, sampleRate: number): Uint8Array {
  const samples = Math.round((sampleRate * SILENCE_MS) / 1000);
  const bytes = new Uint8Array(samples * bytesPerSample(encoding));
  if (encoding === 'mulaw') bytes.fill(0xff);
  if (encoding === 'alaw') bytes.fill(0xd5);
  return bytes;
}

const toError = (err: unknown): { code: string; message: string } =>
  isSttError(err) ? { code: err.code, message: err.message } : { code: 'UNKNOWN', message: err instanceof Error ? err.message : String(err) };

/** Check one provider; never throws. */
export async function checkProvider(provider: Provider, language: string, timeoutMs: number, interrupted: AbortSignal): Promise<CheckResult> {
  const r: CheckResult = { provider: provider.id, ok: false };
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError(`no answer within ${timeoutMs} ms`, { provider: provider.id })), timeoutMs);
  const onInterrupt = () => controller.abort(interrupted.reason);
  interrupted.addEventListener('abort', onInterrupt, { once: true });
  const timedOut = () =>
    controller.signal.aborted && isSttError(controller.signal.reason) ? (controller.signal.reason as SttError) : undefined;
  let session: ProviderSession | undefined;
  let sessionError: SttError | undefined;
  let stage: NonNullable<CheckResult['stage']> = 'connect';
  try {
    const caps = provider.capabilities;
    const format: Required<AudioFormat> = { encoding: caps.encodings[0]!, sampleRate: caps.preferredSampleRate, channels: 1 };
    let results = 0;
    const t0 = performance.now();
    session = await provider.connect({
      format,
      language,
      interimResults: true,
      signal: controller.signal,
      logger: silentLogger,
      onResult: () => results++,
      onError: (e) => (sessionError = e),
    });
    r.connectWallMs = Math.round(performance.now() - t0);
    r.tokenMs = session.costs.tokenMs;
    r.tokenCached = session.costs.tokenCached;
    r.connectMs = session.costs.connectMs;
    stage = 'audio';
    await new Promise<void>((resolve) => session!.send(silence(format.encoding, format.sampleRate), resolve));
    if (sessionError) throw sessionError;
    stage = 'end';
    const t1 = performance.now();
    r.end = await session.end(timeoutMs);
    r.endMs = Math.round(performance.now() - t1);
    r.results = results;
    if (sessionError) throw sessionError;
    if (provider.probe) {
      stage = 'probe';
      const t2 = performance.now();
      await provider.probe(controller.signal);
      r.probeMs = Math.round(performance.now() - t2);
    }
    r.ok = r.end === 'closed';
    if (!r.ok) {
      r.stage = 'end';
      r.error = { code: 'TIMEOUT', message: `the session did not close within ${timeoutMs} ms after the end of audio` };
    }
  } catch (err) {
    r.stage = stage;
    r.error = toError(timedOut() ?? err);
    session?.abort();
  } finally {
    clearTimeout(timer);
    interrupted.removeEventListener('abort', onInterrupt);
  }
  return r;
}

/** Run the command; resolves the exit status. */
export async function check(cmd: CheckCommand, io: Io): Promise<number> {
  const plan = planProviders(cmd, io.env);
  const json = wantsJson(cmd.format, io);
  const setup = plan.emulate ? await emulatedProviders(plan.ids, []) : realProviders(plan.ids, cmd);
  if (plan.emulate) {
    const where = setup.emulated.map((e) => `${e.id} at ${e.address}`).join(', ');
    note(io, `${plan.reason ? `${plan.reason}: ` : ''}checking the built-in emulators (${where})`);
  } else {
    const names = ['RTZR_CLIENT_ID', 'RTZR_CLIENT_SECRET', 'RTZR_API_BASE', 'RTZR_WEBSOCKET_URL', 'GOOGLE_API_KEY', 'GOOGLE_APPLICATION_CREDENTIALS'];
    const set = names.filter((n) => io.env[n]);
    note(io, `checking ${plan.ids.join(', ')}${set.length ? ` (environment: ${set.join(', ')} set)` : ''}`);
  }
  const results: CheckResult[] = [];
  try {
    for (const p of setup.providers) {
      if (io.signal.aborted) break;
      const r = await checkProvider(p, cmd.language, cmd.timeoutMs, io.signal);
      results.push(r);
      if (json) io.stdout.write(`${JSON.stringify({ type: 'check', emulated: plan.emulate, ...r })}\n`);
    }
  } finally {
    await setup.close();
  }
  const failed = results.filter((r) => !r.ok);
  if (json) {
    io.stdout.write(`${JSON.stringify({ type: 'summary', ok: failed.length === 0 && !io.signal.aborted, checked: results.length, failed: failed.map((r) => r.provider) })}\n`);
  } else {
    printTable(io, results, plan.emulate);
  }
  for (const r of failed) note(io, `error ${r.error!.code}: ${r.provider} (${r.stage}): ${r.error!.message}`);
  if (io.signal.aborted) {
    note(io, 'interrupted');
    return EXIT.interrupted;
  }
  return failed.length === 0 ? EXIT.ok : EXIT.failed;
}

function printTable(io: Io, results: CheckResult[], emulated: boolean): void {
  const ms = (v: number | undefined) => (v === undefined ? '-' : `${v} ms`);
  const rows = results.map((r) => [
    `${r.provider}${emulated ? ' (emulator)' : ''}`,
    r.ok ? 'ok' : `FAILED at ${r.stage}: ${r.error!.code}`,
    r.tokenMs === undefined ? '-' : r.tokenCached ? 'cached' : `${r.tokenMs} ms`,
    ms(r.connectMs),
    r.end === undefined ? '-' : `${r.end} in ${r.endMs} ms`,
    ms(r.probeMs),
  ]);
  const header = ['provider', 'result', 'token', 'handshake', `${SILENCE_MS} ms of silence, then end`, 'probe'];
  for (const line of formatTable(header, rows)) io.stdout.write(`${line}\n`);
  const failed = results.filter((r) => !r.ok).length;
  io.stdout.write(`${failed === 0 ? `all ${results.length} provider(s) ok` : `${failed} of ${results.length} provider(s) failed`}\n`);
}
