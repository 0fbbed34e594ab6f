/**
 * The Twilio example, end to end, offline, in one command:
 *
 *   npx tsx examples/twilio/simulate.ts [--fast | --speed N]
 *
 * Starts the example server (server.ts) with signature validation on, as if it were behind a
 * tunnel at https://demo.example, and plays two phone calls into it at the same time, exactly as
 * Twilio would: for each call the voice webhook is POSTed (signed), the TwiML's <Stream> and
 * <Parameter>s are read, and a Twilio Media Streams connection is opened (signed) and fed 20 ms
 * mu-law frames in real time (`--fast`: 10x).
 *
 * - Caller A plays examples/audio/call-ko-8k-mulaw.wav (what Twilio sends: 8 kHz mu-law).
 * - Caller B plays examples/audio/call-ko-16k-linear16.wav, which the simulator converts to 8 kHz
 *   mu-law, and the recognizer answers it with a different utterance script.
 *
 * Without RTZR_CLIENT_ID/RTZR_CLIENT_SECRET the recognizer is the built-in RTZR emulator. It finds
 * utterances by energy and "recognises" them from a script per connection: connection 1 gets the
 * sample call's ground truth, connection 2 a second script. Caller B is started once caller A's
 * recognition connection is open, so connection 2 is always caller B's. With credentials, both
 * calls go to the real RTZR service (and both say the same thing).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RtzrProvider, type Provider } from 'streaming-stt';
import { simulateTwilioCall, startRtzrEmulator, twilioSignature, type RtzrEmulator } from 'streaming-stt/testing';
import { createConsoleLogger, shortSid } from './log.js';
import { startTwilioServer, type CallRecord, type TwilioServer } from './server.js';

const args = process.argv.slice(2);
const speedArg = args.indexOf('--speed');
const speed = speedArg >= 0 ? Number(args[speedArg + 1]) : args.includes('--fast') ? 10 : 1;
if (!Number.isFinite(speed) || speed < 0) {
  console.error('usage: npx tsx examples/twilio/simulate.ts [--fast | --speed N]  (N: 1 = real time, 0 = as fast as possible)');
  process.exit(2);
}

const audioDir = fileURLToPath(new URL('../audio/', import.meta.url));
const truth = JSON.parse(await readFile(`${audioDir}call-ko.json`, 'utf8')) as { utterances: { text: string }[] };

interface Caller {
  name: string;
  file: string;
  from: string;
  script: string[];
}
const callers: Caller[] = [
  { name: 'caller A', file: 'call-ko-8k-mulaw.wav', from: '+821012345678', script: truth.utterances.map((u) => u.text) },
  {
    name: 'caller B',
    file: 'call-ko-16k-linear16.wav',
    from: '+821087654321',
    script: ['여보세요 배송 조회 좀 하려고요', '주문 번호 불러 드릴게요', '네 맞습니다', '감사합니다'],
  },
];

// A pretend public URL (your tunnel in production) and a throwaway Auth Token: the demo signs
// every request the way Twilio does, and the server checks them.
const PUBLIC_URL = 'https://demo.example';
const AUTH_TOKEN = randomBytes(16).toString('hex');
const logger = createConsoleLogger();

let emulator: RtzrEmulator | undefined;
let providers: Provider[];
if (process.env.RTZR_CLIENT_ID && process.env.RTZR_CLIENT_SECRET) {
  providers = [new RtzrProvider()];
  logger.info('recognizer: the real RTZR service (RTZR_CLIENT_ID is set)');
} else {
  emulator = await startRtzrEmulator({
    scriptFor: ({ connectionId }) => callers[connectionId - 1]?.script,
    latency: { authMs: 120, connectMs: 80, processingMs: 150 },
  });
  providers = [
    new RtzrProvider({ apiBase: emulator.apiBase, clientId: emulator.credentials.clientId, clientSecret: emulator.credentials.clientSecret }),
  ];
  logger.info(`recognizer: the built-in RTZR emulator at ${emulator.apiBase} (scripted texts; set RTZR_CLIENT_ID/SECRET for the real service)`);
}

const server: TwilioServer = await startTwilioServer({
  providers,
  port: 0,
  host: '127.0.0.1',
  publicUrl: PUBLIC_URL,
  authToken: AUTH_TOKEN,
  logger,
});
logger.info(`example server on ${server.url}, public as ${PUBLIC_URL} (the simulator plays the tunnel and signs for that URL)`);
logger.info(`playing ${callers.length} calls at once, ${speed === 0 ? 'as fast as possible' : speed === 1 ? 'in real time' : `${speed}x real time`}`);

/** What Twilio does when the number rings: POST the webhook (signed), read the TwiML. */
async function answer(callSid: string, from: string): Promise<{ streamUrl: string; parameters: Record<string, string> }> {
  const form = { AccountSid: 'AC' + '0'.repeat(32), CallSid: callSid, From: from, To: '+8215880000', CallStatus: 'ringing' };
  const res = await fetch(`${server.url}/twiml`, {
    method: 'POST',
    headers: { 'x-twilio-signature': twilioSignature(AUTH_TOKEN, `${PUBLIC_URL}/twiml`, form) },
    body: new URLSearchParams(form),
  });
  const twiml = await res.text();
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}: ${twiml}`);
  const streamUrl = /<Stream url="([^"]+)"/.exec(twiml)?.[1];
  if (!streamUrl) throw new Error(`no <Stream> in the TwiML: ${twiml}`);
  const parameters: Record<string, string> = {};
  for (const m of twiml.matchAll(/<Parameter name="([^"]*)" value="([^"]*)"\/>/g)) parameters[m[1]!] = m[2]!;
  return { streamUrl, parameters };
}

async function call(caller: Caller, callSid: string): Promise<void> {
  const { streamUrl, parameters } = await answer(callSid, caller.from);
  await simulateTwilioCall({
    url: server.mediaStreamUrl, // where the tunnel forwards wss://demo.example/media-stream
    audio: await readFile(audioDir + caller.file),
    speed,
    callSid,
    customParameters: parameters,
    signature: { authToken: AUTH_TOKEN, url: streamUrl },
  });
}

const sids = callers.map(() => 'CA' + randomBytes(16).toString('hex'));
let failed = false;
try {
  const aOpen = new Promise<void>((resolve) =>
    server.on('call-open', ({ callSid }) => {
      if (callSid === sids[0]) resolve();
    }),
  );
  const a = call(callers[0]!, sids[0]!);
  await Promise.race([aOpen, a]); // B's recognition connection must be the emulator's second
  const b = call(callers[1]!, sids[1]!);
  await Promise.all([a, b]);
} catch (err) {
  failed = true;
  logger.error(`the simulation failed: ${(err as Error).message}`);
} finally {
  const records = new Map<string, CallRecord>(server.recentCalls.map((r) => [r.callSid, r]));
  await server.close();
  await emulator?.close();

  console.log('\nSummary');
  for (const [i, caller] of callers.entries()) {
    const r = records.get(sids[i]!);
    const got = (r?.summary?.transcripts ?? []).map((t) => t.text);
    const lat = (r?.summary?.transcripts ?? []).map((t) => t.latencyMs ?? 0);
    const mean = lat.length ? Math.round(lat.reduce((x, y) => x + y, 0) / lat.length) : 0;
    const ok = emulator ? got.length === caller.script.length && got.every((t, k) => t === caller.script[k]) : got.length > 0;
    if (!ok) failed = true;
    console.log(
      `  ${caller.name} ${shortSid(sids[i]!)} (${caller.file}): ${r?.outcome ?? 'no call'}, ${got.length} finals, mean final latency ${mean} ms` +
        (emulator ? ` - ${ok ? 'all match its script' : 'DOES NOT match its script'}` : ''),
    );
    for (const t of got) console.log(`    ${t}`);
  }
  process.exitCode = failed ? 1 : 0;
}
