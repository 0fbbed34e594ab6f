/**
 * The `streaming-stt` command, run as a real child process (bin/streaming-stt.js, as `npx` runs
 * it) against the built-in emulators: NDJSON and human output, terminal vs pipe, pacing, stdin,
 * `check`, and the exit status and stderr of every expected failure (typed code, no stack trace).
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mulaw8k, script } from './helpers/sample-call.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const BIN = 'bin/streaming-stt.js';
const WAV16 = 'examples/audio/call-ko-16k-linear16.wav';
const WAV8 = 'examples/audio/call-ko-8k-mulaw.wav';
/** Starts terminal control sequences. */
const ESC = String.fromCharCode(27);

/** The test process's environment without provider credentials (so the emulators are the default). */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(RTZR_|GOOGLE_)/.test(k)) env[k] = v;
  return { ...env, NO_COLOR: '1', ...extra };
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run a command line to completion (stdio pipes closed). `onStdout` sees output as it comes. */
function run(
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; stdin?: Uint8Array; onStdout?: (text: string, kill: (s: NodeJS.Signals) => void) => void } = {},
): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, env: opts.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      opts.onStdout?.(stdout, (s) => child.kill(s));
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.on('error', () => {}); // the CLI may exit before reading all of stdin
    child.stdin.end(opts.stdin ?? undefined);
  });
}

const cli = (args: string[], opts: Parameters<typeof run>[2] = {}) => run(process.execPath, [BIN, ...args], opts);

type Event = Record<string, unknown> & { type: string };
function ndjson(stdout: string): Event[] {
  const lines = stdout.split('\n').filter((l) => l !== '');
  return lines.map((l) => JSON.parse(l) as Event);
}

/** No stack trace: no "    at " frame and no "Error:" dump. */
function expectNoStack(stderr: string): void {
  expect(stderr).not.toMatch(/^\s+at /m);
  expect(stderr).not.toMatch(/unexpected error/);
}

/** A loopback port with nothing listening. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('streaming-stt transcribe', () => {
  it('through the emulators by default: NDJSON with the 4 ground-truth finals, saying so on stderr', async () => {
    const r = await cli(['transcribe', WAV16, '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/no provider credentials in the environment.*using the built-in emulators \(rtzr at http:\/\/127\.0\.0\.1:\d+, google at/);
    expect(r.stderr).toMatch(/emulator script: examples\/audio\/call-ko\.json \(4 utterances/);
    const events = ndjson(r.stdout);
    expect(events[0]).toMatchObject({ type: 'start', input: WAV16, audio: { encoding: 'linear16', sampleRate: 16000 }, emulated: true, providers: ['rtzr', 'google'] });
    const finals = events.filter((e) => e.type === 'final');
    expect(finals.map((f) => f.text)).toEqual(script);
    expect(finals.map((f) => f.utteranceId)).toEqual([0, 1, 2, 3]);
    for (const f of finals) {
      expect(f).toMatchObject({ provider: 'rtzr' });
      expect(typeof f.latencyMs).toBe('number');
      expect(typeof f.elapsedMs).toBe('number');
    }
    expect(events.filter((e) => e.type === 'partial').length).toBeGreaterThan(0);
    expect(events.filter((e) => e.type === 'metrics')).toHaveLength(4);
    expect(events.at(-1)).toMatchObject({ type: 'summary', finals: 4, text: script.join(' '), providers: ['rtzr'], reconnects: 0, fallbacks: 0 });
    expectNoStack(r.stderr);
  });

  it('piped without --json: NDJSON (stdout is not a terminal); --text: the human lines, nothing redrawn', async () => {
    const piped = await cli(['transcribe', WAV16, '--no-partials']);
    expect(piped.code).toBe(0);
    const events = ndjson(piped.stdout);
    expect(events.filter((e) => e.type === 'final')).toHaveLength(4);
    expect(events.filter((e) => e.type === 'partial')).toHaveLength(0);

    const text = await cli(['transcribe', WAV16, '--text']);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('{"type"');
    expect(text.stdout).not.toContain(`${ESC}[`); // no cursor movement or colour into a pipe
    for (const [i, s] of script.entries()) expect(text.stdout).toContain(`✔ [${i}] ${s}`);
    expect(text.stdout).toContain('Summary (per utterance)');
    expect(text.stdout).toMatch(/token ms +socket ms/);
    expect(text.stdout).toMatch(/4 final\(s\), 10\.1 s of audio/);
  });

  it.skipIf(process.platform !== 'linux')('on a terminal: partials and a progress bar redrawn in place, finals, the summary table', async () => {
    // util-linux `script` runs the command on a pseudo-terminal (stdout.isTTY) and copies what it draws.
    const r = await run('script', ['-q', '-e', '-c', `${process.execPath} ${BIN} transcribe ${WAV16}`, '/dev/null'], {
      env: { ...cleanEnv(), COLUMNS: '100', LINES: '40' },
    });
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out).not.toContain('{"type"');
    const csi = (final: string) => new RegExp(`${ESC}\\[\\d*${final}`);
    expect(out).toMatch(csi('G')); // cursor to column (readline.cursorTo): lines redrawn in place
    expect(out).toMatch(csi('J')); // clear below (readline.clearScreenDown)
    expect(out).toMatch(/… \[0\] 안녕/); // a partial
    expect(out).toMatch(/█+ 100% {2}10\.1 \/ 10\.1 s/); // the progress bar, full
    for (const [i, s] of script.entries()) expect(out).toContain(`✔ [${i}] ${s}`);
    expect(out).toContain('Summary (per utterance)');
  });

  it('8 kHz mu-law at 4x real time with --finalize-on-silence: finalize() per utterance, same finals', async () => {
    const r = await cli(['transcribe', WAV8, '--speed', '4', '--finalize-on-silence', '300', '--json']);
    expect(r.code).toBe(0);
    const events = ndjson(r.stdout);
    expect(events[0]).toMatchObject({ type: 'start', speed: 4, finalizeOnSilenceMs: 300, audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const finalizes = events.filter((e) => e.type === 'finalize');
    expect(finalizes).toHaveLength(4);
    expect(events.filter((e) => e.type === 'final').map((f) => f.text)).toEqual(script);
    // paced: the run took at least the audio's duration divided by 4 (10.1 s / 4), by the summary's own clock
    const summary = events.at(-1)!;
    expect(summary.wallMs as number).toBeGreaterThanOrEqual(10_139 / 4 - 100);
  });

  it('raw audio on stdin (--encoding/--rate) and a WAV on stdin', async () => {
    const raw = await cli(['transcribe', '-', '--encoding', 'mulaw', '--rate', '8000', '--script', 'examples/audio/call-ko.json', '--json'], {
      stdin: mulaw8k.data,
    });
    expect(raw.code).toBe(0);
    let events = ndjson(raw.stdout);
    expect(events[0]).toMatchObject({ type: 'start', input: '-', durationMs: null });
    expect(events.filter((e) => e.type === 'final').map((f) => f.text)).toEqual(script);

    const wav = await cli(['transcribe', '-', '--script', 'examples/audio/call-ko.json', '--json'], { stdin: readFileSync(`${root}${WAV16}`) });
    expect(wav.code).toBe(0);
    events = ndjson(wav.stdout);
    expect(events[0]).toMatchObject({ type: 'start', durationMs: 10_139 });
    expect(events.filter((e) => e.type === 'final').map((f) => f.text)).toEqual(script);
  });

  it('Ctrl-C: the stream is aborted, the summary printed, exit 130', async () => {
    let sent = false;
    const r = await cli(['transcribe', WAV8, '--realtime', '--json'], {
      onStdout: (out, kill) => {
        if (!sent && out.includes('"type":"final"')) {
          sent = true;
          kill('SIGINT');
        }
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/streaming-stt: interrupted/);
    const summary = ndjson(r.stdout).at(-1)!;
    expect(summary).toMatchObject({ type: 'summary', error: { code: 'ABORTED' } });
    expect(summary.finals as number).toBeGreaterThanOrEqual(1);
    expectNoStack(r.stderr);
  });
});

describe('streaming-stt: exit status and typed errors', () => {
  it('a missing file: exit 3, FILE_NOT_FOUND', async () => {
    const r = await cli(['transcribe', 'no/such/call.wav']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('streaming-stt: error FILE_NOT_FOUND: no/such/call.wav: no such file\n');
    expect(r.stdout).toBe('');
  });

  it('not audio: exit 3, INVALID_AUDIO', async () => {
    const r = await cli(['transcribe', 'package.json']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/^streaming-stt: error INVALID_AUDIO: package\.json is not a WAV file/);
    expectNoStack(r.stderr);
  });

  it('bad command lines: exit 2, USAGE, with a pointer to the help', async () => {
    for (const args of [
      [],
      ['transcribe'],
      ['transcribe', WAV16, '--bogus'],
      ['transcribe', WAV16, '--speed', '0'],
      ['transcribe', WAV16, '--realtime', '--speed', '2'],
      ['transcribe', '-', '--encoding', 'mulaw'],
      ['transcribe', WAV16, '--providers', 'rtzr,deepgram'],
      ['transcribe', WAV16, '--whisper-url', 'http://x'],
      ['frobnicate'],
      ['check', '--timeout', 'soon'],
    ]) {
      const r = await cli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr, args.join(' ')).toMatch(/^streaming-stt: error USAGE: .+\nstreaming-stt: see: streaming-stt help\n$/);
    }
  });

  it('a provider that is asked for but not configured: exit 2', async () => {
    const r = await cli(['transcribe', WAV16, '--providers', 'google']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/error USAGE: provider "google" is not configured: set GOOGLE_API_KEY or GOOGLE_APPLICATION_CREDENTIALS/);
  });

  it('an unreachable provider: retried until --give-up-after, then exit 1 with its typed code, no stack trace', async () => {
    const port = await closedPort();
    const rtzr = await cli(['transcribe', WAV16, '--json', '--give-up-after', '1500'], {
      env: cleanEnv({ RTZR_CLIENT_ID: 'id', RTZR_CLIENT_SECRET: 'secret', RTZR_API_BASE: `http://127.0.0.1:${port}` }),
    });
    expect(rtzr.code).toBe(1);
    expect(rtzr.stderr).toMatch(/^streaming-stt: error CONNECTION_FAILED: /m);
    expect(rtzr.stderr).not.toContain('secret');
    expectNoStack(rtzr.stderr);
    const events = ndjson(rtzr.stdout);
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'CONNECTION_FAILED' });
    expect(events.at(-1)).toMatchObject({ type: 'summary', finals: 0, error: { code: 'CONNECTION_FAILED' } });
    expect(events.filter((e) => e.type === 'reconnect').length).toBeGreaterThan(0); // retried first (spec §8)

    const whisper = await cli(['transcribe', WAV16, '--whisper-url', `ws://127.0.0.1:${port}`, '--providers', 'whisper', '--give-up-after', '1500']);
    expect(whisper.code).toBe(1);
    expect(whisper.stderr).toMatch(/^streaming-stt: error CONNECTION_FAILED: /m);
    expectNoStack(whisper.stderr);
  });

  it('help and version: exit 0 on stdout', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: streaming-stt <command>/);
    expect(help.stdout).toMatch(/Exit status: 0 ok; 1 .*; 2 .*; 3 .*; 130 interrupted/s);
    const sub = await cli(['help', 'transcribe']);
    expect(sub.stdout).toMatch(/--finalize-on-silence <ms>/);
    const version = await cli(['--version']);
    expect(version.stdout.trim()).toBe((JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version);
  });
});

describe('streaming-stt check', () => {
  it('with no credentials: checks the emulators and reports what each step took', async () => {
    const r = await cli(['check', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/checking the built-in emulators \(rtzr at .*, google at .*\)/);
    const events = ndjson(r.stdout);
    const rtzr = events.find((e) => e.type === 'check' && e.provider === 'rtzr')!;
    // the emulator answers authenticate after 500 ms and the handshake after 300 ms
    expect(rtzr).toMatchObject({ ok: true, emulated: true, tokenCached: false, end: 'closed', results: 0 });
    expect(rtzr.tokenMs as number).toBeGreaterThanOrEqual(500);
    expect(rtzr.connectMs as number).toBeGreaterThanOrEqual(300);
    const google = events.find((e) => e.type === 'check' && e.provider === 'google')!;
    expect(google).toMatchObject({ ok: true, end: 'closed' });
    expect(google.probeMs as number).toBeGreaterThanOrEqual(250); // recognize(100 ms of silence), 250 ms emulated
    expect(events.at(-1)).toEqual({ type: 'summary', ok: true, checked: 2, failed: [] });

    const text = await cli(['check', '--text']);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^provider +result +token +handshake/m);
    expect(text.stdout).toMatch(/^rtzr \(emulator\) +ok +\d+ ms +\d+ ms +closed in \d+ ms/m);
    expect(text.stdout).toMatch(/all 2 provider\(s\) ok/);
  });

  it('a provider that cannot be reached: exit 1, the failed step and its code', async () => {
    const port = await closedPort();
    const r = await cli(['check', '--json'], {
      env: cleanEnv({ RTZR_CLIENT_ID: 'id', RTZR_CLIENT_SECRET: 'secret', RTZR_API_BASE: `http://127.0.0.1:${port}` }),
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/checking rtzr \(environment: RTZR_CLIENT_ID, RTZR_CLIENT_SECRET, RTZR_API_BASE set\)/);
    expect(r.stderr).toMatch(/error CONNECTION_FAILED: rtzr \(connect\)/);
    expect(r.stderr).not.toContain('secret\n');
    const events = ndjson(r.stdout);
    expect(events[0]).toMatchObject({ type: 'check', provider: 'rtzr', ok: false, stage: 'connect', error: { code: 'CONNECTION_FAILED' } });
    expect(events.at(-1)).toMatchObject({ type: 'summary', ok: false, failed: ['rtzr'] });
    expectNoStack(r.stderr);
  });
});
