/**
 * `streaming-stt transcribe`: one recording through one `StreamingRecognizer`
 * stream, reported as it is recognised.
 * @module
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { bytesPerMs } from '../audio/format.js';
import { StreamingRecognizer } from '../recognizer/streaming-recognizer.js';
import type { StreamSummary } from '../stream/types.js';
import type { TranscribeCommand } from './args.js';
import { openInput } from './audio-input.js';
import { describeError, EXIT, exitCodeOf } from './errors.js';
import { note, wantsJson, type Io } from './io.js';
import { emulatedProviders, planProviders, realProviders, type ProviderSetup } from './providers.js';
import { HumanRenderer } from './render/human.js';
import { NdjsonRenderer } from './render/ndjson.js';
import type { TranscribeRenderer } from './render/renderer.js';
import { findScript, loadScript } from './script.js';
import { SilenceFinalizer } from './silence-finalizer.js';

/** Run the command; resolves the exit status. Throws `CliError`/`SttError` for failures before the stream starts. */
export async function transcribe(cmd: TranscribeCommand, io: Io): Promise<number> {
  const input = await openInput(cmd.input, cmd.encoding && cmd.rate ? { encoding: cmd.encoding, rate: cmd.rate } : undefined, io.stdin);
  const renderer: TranscribeRenderer = wantsJson(cmd.format, io)
    ? new NdjsonRenderer((line) => io.stdout.write(line))
    : new HumanRenderer(io.stdout);
  const setup = await providersFor(cmd, io);
  const recognizer = new StreamingRecognizer({
    providers: setup.providers,
    language: cmd.language,
    ...(cmd.giveUpAfterMs !== undefined ? { fallback: { giveUpAfterMs: cmd.giveUpAfterMs } } : {}),
  });
  try {
    const summary = await run(cmd, io, input, recognizer, renderer, setup);
    for (const n of input.notes) note(io, n);
    if (!summary.error) return EXIT.ok;
    if (summary.error.code === 'ABORTED' && io.signal.aborted) {
      note(io, 'interrupted');
      return EXIT.interrupted;
    }
    for (const line of describeError(summary.error)) note(io, line);
    return exitCodeOf(summary.error);
  } finally {
    await recognizer.close();
    await setup.close();
  }
}

/** Real providers, or the emulators with the recording's script (saying so on stderr). */
async function providersFor(cmd: TranscribeCommand, io: Io): Promise<ProviderSetup> {
  const plan = planProviders(cmd, io.env);
  if (!plan.emulate) return realProviders(plan.ids, cmd);
  let texts: string[] = [];
  if (cmd.script !== undefined) {
    texts = await loadScript(cmd.script);
    note(io, `emulator script: ${cmd.script} (${texts.length} utterances)`);
  } else if (cmd.input !== '-') {
    const found = await findScript(cmd.input);
    if (found) {
      texts = found.texts;
      note(io, `emulator script: ${found.file} (${texts.length} utterances, found next to the recording)`);
    }
  }
  if (texts.length === 0) note(io, 'no script for the emulators: finals will read "(unscripted)" (pass --script with the expected texts)');
  const setup = await emulatedProviders(plan.ids, texts);
  const where = setup.emulated.map((e) => `${e.id} at ${e.address}`).join(', ');
  note(io, `${plan.reason ? `${plan.reason}: ` : ''}using the built-in emulators (${where})`);
  return setup;
}

async function run(
  cmd: TranscribeCommand,
  io: Io,
  input: Awaited<ReturnType<typeof openInput>>,
  recognizer: StreamingRecognizer,
  renderer: TranscribeRenderer,
  setup: ProviderSetup,
): Promise<StreamSummary> {
  const stream = recognizer.stream({ audio: input.format, interimResults: cmd.partials });
  stream.on('open', (e) => renderer.open(e.provider));
  stream.on('partial', (t) => renderer.partial(t));
  stream.on('final', (t) => renderer.final(t));
  stream.on('metrics', (m) => renderer.metrics(m));
  stream.on('reconnect', (e) => renderer.reconnect(e));
  stream.on('fallback', (e) => renderer.fallback(e));
  stream.on('error', (e) => renderer.error(e));
  renderer.start({
    input: cmd.input,
    format: input.format,
    ...(input.durationMs !== undefined ? { durationMs: input.durationMs } : {}),
    providers: setup.providers.map((p) => p.id),
    emulated: setup.emulated.length > 0,
    ...(cmd.speed !== undefined ? { speed: cmd.speed } : {}),
    ...(cmd.finalizeOnSilenceMs !== undefined ? { finalizeOnSilenceMs: cmd.finalizeOnSilenceMs } : {}),
  });
  const finalizer =
    cmd.finalizeOnSilenceMs !== undefined
      ? new SilenceFinalizer(input.format, cmd.finalizeOnSilenceMs, (endMs) => {
          stream.finalize();
          renderer.finalized(endMs);
        })
      : undefined;
  const onInterrupt = (): void => stream.abort('interrupted');
  io.signal.addEventListener('abort', onInterrupt, { once: true });
  const perMs = bytesPerMs(input.format);
  const started = performance.now();

  /** The input's frames, paced to `speed` × real time when asked, feeding the endpointer and the progress. */
  async function* frames(): AsyncGenerator<Uint8Array> {
    let sentMs = 0;
    for await (const frame of input.frames()) {
      if (io.signal.aborted) return;
      if (cmd.speed !== undefined) {
        const wait = started + sentMs / cmd.speed - performance.now();
        if (wait > 1) {
          try {
            await sleep(wait, undefined, { signal: io.signal });
          } catch {
            return; // interrupted
          }
        }
      }
      yield frame;
      sentMs += frame.length / perMs;
      finalizer?.push(frame);
      renderer.progress(sentMs);
    }
  }

  try {
    const summary = await stream.pipeFrom(frames());
    renderer.end(summary, performance.now() - started);
    return summary;
  } finally {
    io.signal.removeEventListener('abort', onInterrupt);
  }
}
