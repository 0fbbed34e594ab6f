/**
 * Stream a WAV file through StreamingRecognizer with a self-hosted Whisper server and print
 * partials and finals.
 *
 *   npx tsx examples/faster-whisper/client.ts [file.wav] [--whisperlive] [--rtzr-primary | --whisper-primary] [--fast]
 *
 * - The WAV defaults to the sample call (examples/audio/call-ko-16k-linear16.wav); any LINEAR16,
 *   mu-law, A-law or float32 mono WAV works. It is played in real time (20 ms frames); `--fast`
 *   writes it as fast as backpressure allows.
 * - Faster-Whisper (the seeds' protocol, examples/faster-whisper/server.py): `WHISPER_URL`
 *   (e.g. ws://gpu-box:8765), `WHISPER_CHUNK_DURATION` / `WHISPER_OVERLAP_DURATION` in seconds,
 *   the same values as the server's --chunk-duration / --overlap-duration (default 2.0 / 0.5).
 *   Without `WHISPER_URL` the built-in emulator answers, so the example runs offline.
 * - `--whisperlive`: a collabora/WhisperLive server instead (`WHISPERLIVE_URL`, default: the
 *   emulator; `WHISPERLIVE_API_KEY`, `WHISPERLIVE_MODEL`).
 * - `--rtzr-primary`: RTZR first, Whisper as the fallback; `--whisper-primary`: the reverse. RTZR
 *   uses `RTZR_CLIENT_ID` / `RTZR_CLIENT_SECRET` when set, else the RTZR emulator.
 * - `LANGUAGE` (BCP-47, default ko-KR).
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  FasterWhisperProvider,
  readWav,
  RtzrProvider,
  StreamingRecognizer,
  WhisperLiveProvider,
  type Provider,
  type StreamSummary,
} from 'streaming-stt';
import { startFasterWhisperEmulator, startRtzrEmulator, startWhisperLiveEmulator } from 'streaming-stt/testing';

const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const useWhisperLive = flag('--whisperlive');
const rtzrPrimary = flag('--rtzr-primary');
const whisperPrimary = flag('--whisper-primary');
const fast = flag('--fast');
const unknown = args.filter((a) => a.startsWith('--') && !['--whisperlive', '--rtzr-primary', '--whisper-primary', '--fast'].includes(a));
if (unknown.length > 0 || (rtzrPrimary && whisperPrimary)) {
  console.error(
    'usage: npx tsx examples/faster-whisper/client.ts [file.wav] [--whisperlive] [--rtzr-primary | --whisper-primary] [--fast]',
  );
  process.exit(2);
}
const language = process.env.LANGUAGE ?? 'ko-KR';
const tty = process.stdout.isTTY === true;

const audioDir = fileURLToPath(new URL('../audio/', import.meta.url));
const samplePath = `${audioDir}call-ko-16k-linear16.wav`;
const wavPath = args.find((a) => !a.startsWith('--')) ?? samplePath;
const wav = readWav(await readFile(wavPath));
const truth = JSON.parse(await readFile(`${audioDir}call-ko.json`, 'utf8')) as { utterances: { text: string }[] };
const isSampleCall = wavPath === samplePath || wavPath.endsWith('call-ko-8k-mulaw.wav') || wavPath.endsWith('call-ko-16k-linear16.wav');
const script = isSampleCall ? truth.utterances.map((u) => u.text) : [];

const closers: (() => Promise<void>)[] = [];
const emulated: string[] = [];

/** The Whisper provider: a real server when its URL is set, else the matching emulator. */
async function whisperProvider(): Promise<Provider> {
  if (useWhisperLive) {
    let url = process.env.WHISPERLIVE_URL;
    if (!url) {
      const emu = await startWhisperLiveEmulator({ script });
      closers.push(() => emu.close());
      url = emu.url;
      emulated.push(`WhisperLive emulator at ${url}`);
    }
    return new WhisperLiveProvider({
      url,
      ...(process.env.WHISPERLIVE_API_KEY ? { apiKey: process.env.WHISPERLIVE_API_KEY } : {}),
      ...(process.env.WHISPERLIVE_MODEL ? { model: process.env.WHISPERLIVE_MODEL } : {}),
    });
  }
  const seconds = (name: string, fallback: number): number => {
    const v = process.env[name];
    if (v === undefined || v === '') return Math.round(fallback * 1000);
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${name} must be a number of seconds (got ${v})`);
    return Math.round(n * 1000);
  };
  const chunkDurationMs = seconds('WHISPER_CHUNK_DURATION', 2);
  const overlapDurationMs = seconds('WHISPER_OVERLAP_DURATION', 0.5);
  let url = process.env.WHISPER_URL;
  if (!url) {
    // The emulator also says Whisper's stock phrases on silence, garbles words cut by a chunk edge, and
    // sends word times like server.py, to show the provider dealing with each.
    const emu = await startFasterWhisperEmulator({ script, chunkDurationMs, overlapDurationMs, hallucinate: true, mangleEdges: true, wordTimes: true });
    closers.push(() => emu.close());
    url = emu.url;
    emulated.push(`Faster-Whisper emulator at ${url} (chunk ${chunkDurationMs} ms, overlap ${overlapDurationMs} ms)`);
  }
  return new FasterWhisperProvider({ url, chunkDurationMs, overlapDurationMs });
}

async function rtzrProvider(): Promise<Provider> {
  if (process.env.RTZR_CLIENT_ID && process.env.RTZR_CLIENT_SECRET) return new RtzrProvider();
  const emu = await startRtzrEmulator({ script });
  closers.push(() => emu.close());
  emulated.push(`RTZR emulator at ${emu.apiBase}`);
  return new RtzrProvider({
    apiBase: emu.apiBase,
    websocketUrl: emu.websocketUrl,
    clientId: emu.credentials.clientId,
    clientSecret: emu.credentials.clientSecret,
  });
}

const whisper = await whisperProvider();
const providers = rtzrPrimary ? [await rtzrProvider(), whisper] : whisperPrimary ? [whisper, await rtzrProvider()] : [whisper];
// The provider list is in priority order: the stream's fallback moves to the next one when the first fails.
const recognizer = new StreamingRecognizer({ providers, language });

console.log(`Providers, in priority order: ${providers.map((p) => p.id).join(' → ')}`);
for (const e of emulated) console.log(`  (no server configured: ${e})`);
if (emulated.length > 0 && !isSampleCall) console.log('  (the emulators only know the sample call\'s script: other audio prints "(unscripted)")');
console.log(`Streaming ${wavPath.replace(`${process.cwd()}/`, '')}: ${(wav.durationMs / 1000).toFixed(1)} s of ${wav.format.encoding} ${wav.format.sampleRate} Hz${fast ? ' (fast)' : ' in real time'}\n`);

const stream = recognizer.stream({ audio: { encoding: wav.format.encoding, sampleRate: wav.format.sampleRate } });
let partialShown = false;
const clearPartial = (): void => {
  if (partialShown) process.stdout.write('\r\x1b[2K');
  partialShown = false;
};
stream.on('open', ({ provider }) => console.log(`connected to ${provider}`));
stream.on('partial', (t) => {
  if (tty) {
    process.stdout.write(`\r\x1b[2K  … [${t.utteranceId}] ${t.text}`);
    partialShown = true;
  } else console.log(`  … [${t.utteranceId}] ${t.text}`);
});
stream.on('final', (t) => {
  clearPartial();
  console.log(
    `final [${t.utteranceId}] ${(t.startMs / 1000).toFixed(2)}–${(t.endMs / 1000).toFixed(2)} s, ${t.latencyMs} ms after its audio, ${t.provider}: ${t.text}`,
  );
});
stream.on('fallback', (e) => console.log(`fallback ${e.from} → ${e.to} (${e.reason.code}), ${e.replayedMs} ms of audio replayed`));
stream.on('reconnect', (e) => console.log(`reconnect to ${e.provider}, attempt ${e.attempt} (${e.reason.code})`));
stream.on('error', (e) => {
  clearPartial();
  console.error(`error ${e.code} from ${e.provider ?? 'stream'}: ${e.message}`);
});

let interrupted = false;
process.once('SIGINT', () => {
  interrupted = true;
  stream.abort('interrupted');
});

const bytesPerSample = wav.format.encoding === 'linear16' ? 2 : wav.format.encoding === 'float32' ? 4 : 1;
const frameBytes = (wav.format.sampleRate / 50) * bytesPerSample; // 20 ms
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));
let summary: StreamSummary;
try {
  const started = performance.now();
  for (let off = 0, i = 0; off < wav.data.length && !interrupted && (stream.state === 'connecting' || stream.state === 'open'); off += frameBytes, i++) {
    const ok = stream.write(wav.data.subarray(off, off + frameBytes));
    if (fast) {
      if (!ok) await new Promise<void>((r) => stream.once('drain', r));
    } else await sleep(started + (i + 1) * 20 - performance.now());
  }
  summary = await stream.end();
} finally {
  await recognizer.close();
  for (const close of closers) await close();
}
clearPartial();

console.log(`\n${summary.transcripts.length} finals from ${summary.providers.join(' → ')}, ${(summary.audioMs / 1000).toFixed(1)} s of audio, ${summary.fallbacks} fallbacks`);
if (whisper instanceof FasterWhisperProvider) {
  const s = whisper.stats;
  console.log(
    `faster-whisper: ${s.replies} chunk replies (${s.timedReplies} with word times), ${s.overlapWordsRemoved} repeated overlap words removed, ${s.overlapWordsRetracted} words of a cut chunk edge replaced, ${s.hallucinationsDropped} stock hallucinations dropped, ${Math.round(s.paddingMs)} ms of silence padding`,
  );
} else if (whisper instanceof WhisperLiveProvider) {
  console.log(`whisperlive: ${whisper.stats.updates} transcript updates, ${whisper.stats.segmentsResent} re-sent segments ignored`);
}
let failed = summary.error !== undefined && !interrupted;
if (emulated.length > 0 && isSampleCall && !interrupted) {
  const ok = summary.transcripts.map((t) => t.text).join('\n') === script.join('\n');
  console.log(ok ? 'All finals match the ground truth.' : 'The finals differ from the ground truth.');
  if (!ok) failed = true;
}
process.exitCode = failed ? 1 : 0;
