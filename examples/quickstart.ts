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
 * `--outage` (always emulated): RTZR primary, Google fallback; the RTZR
 * emulator is killed in the middle of the second utterance, and the call
 * goes on on Google with every final, replaying the audio not yet final. With
 * `@google-cloud/speech` installed (a devDependency of this repository), Google
 * runs in streaming mode on its gRPC emulator, so partials keep coming; without
 * it, in REST utterance mode (finals only), and the demo says how to install it.
 * The RTZR emulator restarts a moment later: its recovery probe succeeds and
 * the same call hands back to RTZR at the next pause (`handover`, switch-back).
 *
 * `--outage --single`: RTZR alone, the most common production set-up. The RTZR
 * emulator is killed in the middle of the second utterance and restarted on
 * the same port a few seconds later (a server restart); the stream keeps
 * reconnecting with backoff, then replays the audio not yet final and
 * finishes the call with every final.
 *
 *   npx tsx examples/quickstart.ts [--fast] [--calls N] [--outage [--single]]
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  GoogleProvider,
  readWav,
  RtzrProvider,
  StreamingRecognizer,
  type Provider,
  type StreamSummary,
  type UtteranceMetrics,
} from 'streaming-stt';
import {
  ScriptCursor,
  startGoogleEmulator,
  startGoogleStreamingEmulator,
  startRtzrEmulator,
  type GoogleEmulator,
  type GoogleStreamingEmulator,
  type RtzrEmulator,
} from 'streaming-stt/testing';

const args = process.argv.slice(2);
const fast = args.includes('--fast');
const outage = args.includes('--outage');
const single = outage && args.includes('--single');
const callsArg = args.indexOf('--calls');
const calls = callsArg >= 0 ? Math.max(1, Number(args[callsArg + 1]) || 2) : outage ? 1 : 2;
const speed = fast ? 10 : 1;
const tty = process.stdout.isTTY === true;

const audioDir = fileURLToPath(new URL('./audio/', import.meta.url));
const truth = JSON.parse(await readFile(`${audioDir}call-ko.json`, 'utf8')) as {
  durationMs: number;
  utterances: { text: string; startMs: number; endMs: number }[];
};
const wav = readWav(await readFile(`${audioDir}call-ko-8k-mulaw.wav`));

/** The RTZR emulator dies once this much audio of the call has been played (inside utterance 1). */
const OUTAGE_AT_MS = 4400;
/** With `--single`, it comes back (same port) this long after it died: the stream reconnects. */
const RESTART_AFTER_MS = 3000;
/** With a fallback, it comes back this long after the call fell back to Google: the call switches back. */
const RESTART_AFTER_FALLBACK_MS = 1000;
/** With a fallback, how soon the recognizer probes RTZR after it failed (default 30 s; short for the demo). */
const RECOVERY_COOLDOWN_MS = 500;
/** Emulated latencies of the seeds' logs: token ~120-500 ms, socket ~80-300 ms, recognition after EPD. */
const LATENCY = { authMs: 500, connectMs: 300, processingMs: 150 };

let emulator: RtzrEmulator | undefined;
let google: GoogleEmulator | GoogleStreamingEmulator | undefined;
const providers: Provider[] = [];
// The call's ground truth, shared by the emulators: whichever one hears an utterance says its text.
const cursor = new ScriptCursor(truth.utterances.map((u) => u.text));
if (process.env.RTZR_CLIENT_ID && process.env.RTZR_CLIENT_SECRET && !outage) {
  providers.push(new RtzrProvider());
  console.log('Using the real RTZR service (RTZR_CLIENT_ID is set).');
} else {
  emulator = await startRtzrEmulator({ script: cursor, latency: LATENCY });
  providers.push(
    new RtzrProvider({
      apiBase: emulator.apiBase,
      websocketUrl: emulator.websocketUrl,
      clientId: emulator.credentials.clientId,
      clientSecret: emulator.credentials.clientSecret,
    }),
  );
  console.log(`No RTZR credentials in the environment: using the built-in RTZR emulator at ${emulator.apiBase}`);
  console.log('(emulated latencies: authenticate 500 ms, WebSocket handshake 300 ms, recognition 150 ms after EPD)');
}
if (outage && !single) {
  try {
    // Streaming mode needs the optional peer dependency @google-cloud/speech (and the emulator its protos).
    const grpc = await startGoogleStreamingEmulator({ script: cursor, latency: { processingMs: 150 } });
    google = grpc;
    providers.push(new GoogleProvider({ mode: 'streaming', endpoint: grpc.endpoint, version: 'v2', projectId: 'demo' }));
    console.log(`Outage drill: Google streaming (gRPC v2) emulator at ${grpc.endpoint} is the fallback: partials continue on Google.`);
  } catch (err) {
    const rest = await startGoogleEmulator({ script: cursor, latency: { processingMs: 250 } });
    google = rest;
    providers.push(new GoogleProvider({ endpoint: rest.endpoint, apiKey: rest.apiKey }));
    console.log(`Outage drill: Google REST emulator at ${rest.endpoint} is the fallback (utterance mode: finals only, no partials).`);
    console.log(`  (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`);
    console.log('  To see partials continue on Google: npm install @google-cloud/speech@^7 @grpc/grpc-js @grpc/proto-loader');
  }
  console.log(
    `RTZR dies at ${OUTAGE_AT_MS / 1000} s into the call and restarts ${RESTART_AFTER_FALLBACK_MS / 1000} s after the fallback; once its probe succeeds, the call switches back to RTZR at the next pause.`,
  );
} else if (single) {
  console.log(
    `Outage drill, RTZR alone: the emulator dies at ${OUTAGE_AT_MS / 1000} s into the call and restarts ${RESTART_AFTER_MS / 1000} s later.`,
  );
}

/** Kill the RTZR emulator; with `--single`, restart it on the same port a little later. */
function killRtzr(note: (line: string) => void): void {
  const dead = emulator!;
  rtzrPort = Number(new URL(dead.apiBase).port);
  void dead.close().then(() => {
    if (single) restartRtzr(note, RESTART_AFTER_MS);
  });
}

let rtzrPort = 0;
/** Start the RTZR emulator again on its old port `afterMs` from now. */
function restartRtzr(note: (line: string) => void, afterMs: number): void {
  setTimeout(() => {
    void startRtzrEmulator({ script: cursor, latency: LATENCY, port: rtzrPort }).then((e) => {
      emulator = e;
      note(`  ✚ RTZR emulator restarted on port ${rtzrPort} (${afterMs / 1000} s later; its old tokens are gone)`);
    });
  }, afterMs);
}

// One recognizer per process: it owns the token cache and connection pools.
const recognizer = new StreamingRecognizer({
  providers,
  language: 'ko-KR',
  ...(outage && !single ? { fallback: { recoveryCooldownMs: RECOVERY_COOLDOWN_MS } } : {}),
});
recognizer.on('availability', (e) =>
  console.log(`  ⚑ ${e.provider} ${e.available ? 'is available again' : `taken out of rotation (${e.reason?.code})`}`),
);

const FRAME_BYTES = 160; // 20 ms of 8 kHz mu-law, as Twilio sends it
const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

interface Row {
  call: number;
  provider: string;
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
  const by = (t: { provider: string }) => (outage ? ` (${t.provider})` : ''); // who is serving, in an outage drill
  stream.on('partial', (t) => {
    if (tty) {
      process.stdout.write(`\r\x1b[2K  … [${t.utteranceId}]${by(t)} ${t.text}`);
      partialShown = true;
    } else {
      console.log(`  … [${t.utteranceId}]${by(t)} ${t.text}`);
    }
  });
  stream.on('final', (t) => {
    if (partialShown) process.stdout.write('\r\x1b[2K');
    partialShown = false;
    texts.set(t.utteranceId, { text: t.text, startMs: t.startMs, endMs: t.endMs });
    console.log(
      `  ✔ [${t.utteranceId}]${by(t)} ${t.text}    (${(t.startMs / 1000).toFixed(2)}–${(t.endMs / 1000).toFixed(2)} s, final ${t.latencyMs} ms after its last audio was written)`,
    );
  });
  stream.on('metrics', (m) => {
    const u = texts.get(m.utteranceId)!;
    rows.push({ call, provider: m.provider, metrics: m, ...u });
  });
  const note = (line: string) => {
    if (partialShown) process.stdout.write('\r\x1b[2K');
    partialShown = false;
    console.log(line);
  };
  stream.on('error', (e) => note(`  ✖ ${e.code}: ${e.message}`));
  stream.on('reconnect', (e) =>
    note(`  ↻ ${e.provider}: ${e.reason.code}; reconnect attempt ${e.attempt} after ${e.delayMs} ms`),
  );
  stream.on('state', (e) => {
    if (e.reason && e.to === 'connecting') note(`  ⚠ ${e.from} → ${e.to}: ${e.reason.code} (${e.reason.message})`);
  });
  stream.on('fallback', (e) => {
    note(`  ⇢ fallback ${e.from} → ${e.to} (${e.reason.code}); replaying ${e.replayedMs} ms of audio not yet final`);
    if (outage && !single) restartRtzr(note, RESTART_AFTER_FALLBACK_MS);
  });
  stream.on('handover', (e) =>
    note(`  ⇄ handover ${e.from} → ${e.to} (${e.reason}${e.forced ? ', forced' : ', at a pause'}); replaying ${e.replayedMs} ms after the last final`),
  );

  cursor.reset(); // a new call
  let killed = false;
  const started = performance.now();
  for (let off = 0, i = 0; off < wav.data.length; off += FRAME_BYTES, i++) {
    // A live source would keep writing (write() returns false and drops the audio after a failure); a demo can stop.
    if (stream.state === 'failed' || stream.state === 'closed') break;
    if (outage && !killed && call === 1 && i * 20 >= OUTAGE_AT_MS) {
      killed = true;
      note(`  ✖ killing the RTZR emulator now (${OUTAGE_AT_MS / 1000} s into the call)`);
      killRtzr(note);
    }
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
      if (emulator === undefined) {
        console.error('Check the network and RTZR_CLIENT_ID / RTZR_CLIENT_SECRET (unset both to run against the built-in emulator).');
      }
      break; // the next call would fail the same way
    } else {
      console.log(`  call ${c} ended: ${summary.transcripts.length} finals, ${(summary.audioMs / 1000).toFixed(1)} s of audio`);
    }
  }
} catch (err) {
  // Not expected (stream failures arrive in summary.error); still, a demo ends with a message, not a stack trace.
  failed = true;
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await recognizer.close();
  await emulator?.close();
  await google?.close();
}
if (rows.length > 0) printSummary();
process.exitCode = failed ? 1 : 0;

function printSummary(): void {
  console.log('\nSummary (per utterance)');
  const header = ['call', 'utt', 'provider', 'text', 'start s', 'end s', 'truth', 'token ms', 'socket ms', 'final ms'];
  const table = rows.map((r) => {
    const t = truth.utterances[r.metrics.utteranceId];
    const match = t && t.text === r.text && Math.abs(t.startMs - r.startMs) <= 300 && Math.abs(t.endMs - r.endMs) <= 300;
    return [
      String(r.call),
      String(r.metrics.utteranceId),
      r.provider,
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
      `call ${c}: token ${m[0]!.tokenCached ? 'cached (0 ms)' : `${m[0]!.tokenMs} ms`}, socket ${m[0]!.connectMs} ms once for ${m.filter((x) => x.provider === m[0]!.provider).length} utterance(s) on ${m[0]!.provider}, final latency mean ${Math.round(lat.reduce((a, b) => a + b, 0) / lat.length)} ms`,
    );
  }
  if (emulator) {
    const expected = truth.utterances.length * calls;
    const matching = table.filter((r) => r[6] === 'match').length;
    const ok = rows.length === expected && matching === expected;
    console.log(ok ? `All ${expected} finals match the ground truth.` : `Expected ${expected} matching finals, got ${matching}.`);
    if (!ok) failed = true;
  }
}
