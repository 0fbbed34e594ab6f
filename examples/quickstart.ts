/**
 * `npm run demo`: a real Korean phone call through streaming-stt.
 *
 * Plays examples/audio/call-ko-8k-mulaw.wav as Twilio Media Streams would
 * (20 ms mu-law frames at 8 kHz, paced in real time; `--fast` for 10x) into
 * one StreamingRecognizer, twice in the same process, and prints partials
 * updating in place, each final with its latency, and a summary table.
 *
 * With RTZR_CLIENT_ID / RTZR_CLIENT_SECRET set it uses the real RTZR service;
 * otherwise it starts the built-in RTZR emulator with the call's ground truth
 * and the latencies of the seeds' measurements.
 *
 *   npx tsx examples/quickstart.ts [--fast] [--calls N]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { readWav, RtzrProvider, StreamingRecognizer, type StreamSummary, type UtteranceMetrics } from '../src/index.js';
import { startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const callsArg = args.indexOf('--calls');
const calls = callsArg >= 0 ? Math.max(1, Number(args[callsArg + 1]) || 2) : 2;
const speed = fast ? 10 : 1;
const tty = process.stdout.isTTY === true;

const audioDir = fileURLToPath(new URL('./audio/', import.meta.url));
const truth = JSON.parse(await readFile(`${audioDir}call-ko.json`, 'utf8')) as {
  durationMs: number;
  utterances: { text: string; startMs: number; endMs: number }[];
};
const wav = readWav(await readFile(`${audioDir}call-ko-8k-mulaw.wav`));

let emulator: RtzrEmulator | undefined;
let provider: RtzrProvider;
if (process.env.RTZR_CLIENT_ID && process.env.RTZR_CLIENT_SECRET) {
  provider = new RtzrProvider();
  console.log('Using the real RTZR service (RTZR_CLIENT_ID is set).');
} else {
  // Latencies of the seeds' logs: token ~120-500 ms, socket ~80-300 ms, recognition after EPD.
  emulator = await startRtzrEmulator({
    script: truth.utterances.map((u) => u.text),
    latency: { authMs: 500, connectMs: 300, processingMs: 150 },
  });
  provider = new RtzrProvider({
    apiBase: emulator.apiBase,
    websocketUrl: emulator.websocketUrl,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
  });
  console.log(`No RTZR credentials in the environment: using the built-in RTZR emulator at ${emulator.apiBase}`);
  console.log('(emulated latencies: authenticate 500 ms, WebSocket handshake 300 ms, recognition 150 ms after EPD)');
}

// One recognizer per process: it owns the token cache and connection pools.
const recognizer = new StreamingRecognizer({ providers: [provider], language: 'ko-KR' });

const FRAME_BYTES = 160; // 20 ms of 8 kHz mu-law, as Twilio sends it
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Row {
  call: number;
  metrics: UtteranceMetrics;
  text: string;
  startMs: number;
  endMs: number;
}
const rows: Row[] = [];

async function playCall(call: number): Promise<StreamSummary> {
  console.log(`\n── call ${call}: ${(wav.durationMs / 1000).toFixed(1)} s of 8 kHz mu-law in 20 ms frames${fast ? ' (10x speed)' : ''}`);
  const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
  let partialShown = false;
  const texts = new Map<number, { text: string; startMs: number; endMs: number }>();
  stream.on('partial', (t) => {
    if (tty) {
      process.stdout.write(`\r\x1b[2K  … [${t.utteranceId}] ${t.text}`);
      partialShown = true;
    } else {
      console.log(`  … [${t.utteranceId}] ${t.text}`);
    }
  });
  stream.on('final', (t) => {
    if (partialShown) process.stdout.write('\r\x1b[2K');
    partialShown = false;
    texts.set(t.utteranceId, { text: t.text, startMs: t.startMs, endMs: t.endMs });
    console.log(
      `  ✔ [${t.utteranceId}] ${t.text}    (${(t.startMs / 1000).toFixed(2)}–${(t.endMs / 1000).toFixed(2)} s, final ${t.latencyMs} ms after its last audio was written)`,
    );
  });
  stream.on('metrics', (m) => {
    const u = texts.get(m.utteranceId)!;
    rows.push({ call, metrics: m, ...u });
  });
  stream.on('error', (e) => console.error(`  ✖ ${e.code}: ${e.message}`));

  const started = performance.now();
  for (let off = 0, i = 0; off < wav.data.length; off += FRAME_BYTES, i++) {
    stream.write(wav.data.subarray(off, off + FRAME_BYTES));
    await sleep(started + ((i + 1) * 20) / speed - performance.now());
  }
  const summary = await stream.end();
  if (partialShown) process.stdout.write('\r\x1b[2K');
  return summary;
}

let failed = false;
try {
  for (let c = 1; c <= calls; c++) {
    const summary = await playCall(c);
    if (summary.error) {
      failed = true;
      console.error(`call ${c} failed: ${summary.error.code}: ${summary.error.message}`);
    } else {
      console.log(`  call ${c} ended: ${summary.transcripts.length} finals, ${(summary.audioMs / 1000).toFixed(1)} s of audio`);
    }
  }
} finally {
  await recognizer.close();
  await emulator?.close();
}

console.log('\nSummary (per utterance)');
const header = ['call', 'utt', 'text', 'start s', 'end s', 'truth', 'token ms', 'socket ms', 'final ms'];
const table = rows.map((r) => {
  const t = truth.utterances[r.metrics.utteranceId];
  const match = t && t.text === r.text && Math.abs(t.startMs - r.startMs) <= 300 && Math.abs(t.endMs - r.endMs) <= 300;
  return [
    String(r.call),
    String(r.metrics.utteranceId),
    r.text,
    (r.startMs / 1000).toFixed(2),
    (r.endMs / 1000).toFixed(2),
    emulator ? (match ? 'match' : 'MISMATCH') : '-',
    r.metrics.tokenCached ? `${r.metrics.tokenMs} (cached)` : String(r.metrics.tokenMs),
    r.metrics.connectionReused ? '0 (reused)' : String(r.metrics.connectMs),
    String(r.metrics.finalLatencyMs),
  ];
});
const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7A3]/.test(ch) ? 2 : 1), 0);
const cols = header.map((h, i) => Math.max(width(h), ...table.map((r) => width(r[i]!))));
const line = (r: string[]) => r.map((c, i) => c + ' '.repeat(cols[i]! - width(c))).join('  ');
console.log(line(header));
console.log(cols.map((w) => '─'.repeat(w)).join('  '));
for (const r of table) console.log(line(r));

const byCall = (c: number) => rows.filter((r) => r.call === c).map((r) => r.metrics);
for (let c = 1; c <= calls; c++) {
  const m = byCall(c);
  if (m.length === 0) continue;
  const lat = m.map((x) => x.finalLatencyMs);
  console.log(
    `call ${c}: token ${m[0]!.tokenCached ? 'cached (0 ms)' : `${m[0]!.tokenMs} ms`}, socket ${m[0]!.connectMs} ms once for ${m.length} utterances, final latency mean ${Math.round(lat.reduce((a, b) => a + b, 0) / lat.length)} ms`,
  );
}
if (emulator) {
  const expected = truth.utterances.length * calls;
  const ok = rows.length === expected && table.every((r) => r[5] === 'match');
  console.log(ok ? `All ${expected} finals match the ground truth.` : `Expected ${expected} matching finals, got ${table.filter((r) => r[5] === 'match').length}.`);
  if (!ok) failed = true;
}
process.exitCode = failed ? 1 : 0;
