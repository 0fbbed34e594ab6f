/**
 * The command line: usage text and argument parsing (`node:util` `parseArgs`,
 * strict), with every value validated into a typed command.
 * @module
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { AUDIO_ENCODINGS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, type AudioEncoding } from '../audio/format.js';
import { UsageError } from './errors.js';

/** Provider ids the command line can configure. */
export const PROVIDER_IDS = ['rtzr', 'google', 'whisper', 'whisperlive'] as const;
/** A provider id of {@link PROVIDER_IDS}. */
export type ProviderId = (typeof PROVIDER_IDS)[number];

/** `streaming-stt help`. */
export const USAGE = `Usage: streaming-stt <command> [options]

Commands:
  transcribe <file.wav | ->   recognise a recording (any WAV the library reads), or raw audio on stdin
  check                       verify credentials and connectivity of each configured provider
  help [command]              show this help, or a command's

Providers come from the environment (RTZR_CLIENT_ID + RTZR_CLIENT_SECRET [RTZR_API_BASE,
RTZR_WEBSOCKET_URL]; GOOGLE_API_KEY or GOOGLE_APPLICATION_CREDENTIALS) and from flags
(--whisper-url, --whisperlive-url). With none of them, the built-in emulators are used (as stderr
says), as with --emulator.

Output: on a terminal, partials update in place, finals print with their times and latency, a
progress bar follows the file, and a summary table ends the run. Piped (or with --json): NDJSON,
one event per line.

Exit status: 0 ok; 1 recognition failed or a provider check failed; 2 bad command line or
configuration; 3 unreadable input or not audio; 130 interrupted.

Options: streaming-stt help transcribe | streaming-stt help check
  -v, --version               print the version
  -h, --help                  print this help`;

const PROVIDER_OPTIONS = `  --providers <ids>           comma-separated, in priority order (fallback follows it):
                              rtzr, google, whisper, whisperlive
                              (default: every provider the environment and flags configure)
  --emulator                  use the built-in emulators of those providers (default when no
                              credentials are set); with no --providers: rtzr, then google
  --whisper-url <ws-url>      a Faster-Whisper server (configures provider "whisper")
  --whisperlive-url <ws-url>  a WhisperLive server (configures provider "whisperlive")
  --language <bcp47>          language of the audio (default ko-KR)`;

/** `streaming-stt help transcribe`. */
export const TRANSCRIBE_USAGE = `Usage: streaming-stt transcribe <file.wav | -> [options]

Recognise a recording and print partials, finals and a summary. "-" reads stdin: a WAV, or raw
audio with --encoding and --rate (streamed as it arrives).

${PROVIDER_OPTIONS}
  --encoding <enc>            raw input: linear16 | mulaw | alaw | float32
  --rate <Hz>                 raw input sample rate (8000-48000)
  --realtime                  pace the audio like a live call (default: as fast as the
                              provider accepts it, honouring backpressure)
  --speed <x>                 pace at x times real time (e.g. 4)
  --finalize-on-silence <ms>  end each utterance after this much silence (energy endpointer,
                              calls finalize()) instead of waiting for the provider's endpointing
  --no-partials               do not ask for partial results
  --give-up-after <ms>        stop retrying after this long without any provider connected
                              (fallback.giveUpAfterMs; default: the replay window, 30000)
  --script <file>             what the emulators say: JSON ({ utterances: [{ text }] } or
                              ["text", …]) or one utterance per line; default: a JSON file next
                              to the recording whose name starts its name (call-ko.json for
                              call-ko-16k-linear16.wav)
  --json                      NDJSON on stdout (the default when stdout is not a terminal)
  --text                      human-readable output even when stdout is not a terminal
  -h, --help                  print this help

Examples:
  npx streaming-stt transcribe examples/audio/call-ko-16k-linear16.wav
  npx streaming-stt transcribe call.wav --json | jq -r 'select(.type == "final") | .text'
  arecord -f S16_LE -r 16000 -c 1 -t raw | npx streaming-stt transcribe - --encoding linear16 --rate 16000`;

/** `streaming-stt help check`. */
export const CHECK_USAGE = `Usage: streaming-stt check [options]

For each configured provider: an access token, a connection (handshake), 100 ms of silence and
a clean end, with what each step took. With no credentials set, checks the built-in emulators.

${PROVIDER_OPTIONS}
  --timeout <ms>              give up on a provider after this long (default 10000)
  --json                      NDJSON on stdout (the default when stdout is not a terminal)
  --text                      human-readable output even when stdout is not a terminal
  -h, --help                  print this help`;

/** Options shared by both commands. */
export interface ProviderFlags {
  providers?: ProviderId[];
  emulator: boolean;
  whisperUrl?: string;
  whisperliveUrl?: string;
  language: string;
  /** `json`: NDJSON; `human`: text (in place on a terminal); `auto`: by whether stdout is a terminal. */
  format: 'json' | 'human' | 'auto';
}

/** `transcribe`, validated. */
export interface TranscribeCommand extends ProviderFlags {
  command: 'transcribe';
  input: string;
  encoding?: AudioEncoding;
  rate?: number;
  /** Pace at this multiple of real time; undefined: as fast as the provider accepts. */
  speed?: number;
  finalizeOnSilenceMs?: number;
  /** `fallback.giveUpAfterMs`, ms; undefined: the library's default. */
  giveUpAfterMs?: number;
  partials: boolean;
  script?: string;
}

/** `check`, validated. */
export interface CheckCommand extends ProviderFlags {
  command: 'check';
  timeoutMs: number;
}

/** A parsed command line. */
export type Command =
  | TranscribeCommand
  | CheckCommand
  | { command: 'help'; text: string }
  | { command: 'version' };

const providerOptions = {
  providers: { type: 'string' },
  emulator: { type: 'boolean' },
  'whisper-url': { type: 'string' },
  'whisperlive-url': { type: 'string' },
  language: { type: 'string' },
  json: { type: 'boolean' },
  text: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

const transcribeOptions = {
  ...providerOptions,
  encoding: { type: 'string' },
  rate: { type: 'string' },
  realtime: { type: 'boolean' },
  speed: { type: 'string' },
  'finalize-on-silence': { type: 'string' },
  'no-partials': { type: 'boolean' },
  'give-up-after': { type: 'string' },
  script: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

const checkOptions = { ...providerOptions, timeout: { type: 'string' } } as const satisfies ParseArgsConfig['options'];

/** `parseArgs`, with its errors as usage errors. */
function parse<O extends ParseArgsConfig['options']>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
}

function number(flag: string, value: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new UsageError(`--${flag} must be ${what}, got "${value}"`);
  return n;
}

function wsUrl(flag: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new UsageError(`--${flag} must be a ws:// or wss:// URL, got "${value}"`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:') throw new UsageError(`--${flag} must be a ws:// or wss:// URL, got "${value}"`);
  return value;
}

function providerFlags(v: Record<string, string | boolean | undefined>): ProviderFlags {
  if (v.json && v.text) throw new UsageError('--json and --text exclude each other');
  let providers: ProviderId[] | undefined;
  if (typeof v.providers === 'string') {
    providers = v.providers.split(',').map((s) => s.trim()) as ProviderId[];
    for (const p of providers) {
      if (!PROVIDER_IDS.includes(p)) throw new UsageError(`unknown provider "${p}" in --providers (expected ${PROVIDER_IDS.join(', ')})`);
    }
    if (new Set(providers).size !== providers.length) throw new UsageError('--providers lists a provider twice');
  }
  const language = typeof v.language === 'string' ? v.language : 'ko-KR';
  if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(language)) throw new UsageError(`--language must be a BCP-47 tag such as ko-KR, got "${language}"`);
  return {
    ...(providers ? { providers } : {}),
    emulator: v.emulator === true,
    ...(typeof v['whisper-url'] === 'string' ? { whisperUrl: wsUrl('whisper-url', v['whisper-url']) } : {}),
    ...(typeof v['whisperlive-url'] === 'string' ? { whisperliveUrl: wsUrl('whisperlive-url', v['whisperlive-url']) } : {}),
    language,
    format: v.json ? 'json' : v.text ? 'human' : 'auto',
  };
}

/**
 * Parse `argv` (without `node` and the script).
 * @throws {@link UsageError} for anything that is not a valid command line.
 */
export function parseCommandLine(argv: string[]): Command {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError('no command given (commands: transcribe, check, help)');
  if (first === '-h' || first === '--help') return { command: 'help', text: USAGE };
  if (first === '-v' || first === '--version') return { command: 'version' };
  if (first === 'help') {
    const topic = rest[0];
    if (topic === undefined) return { command: 'help', text: USAGE };
    if (topic === 'transcribe') return { command: 'help', text: TRANSCRIBE_USAGE };
    if (topic === 'check') return { command: 'help', text: CHECK_USAGE };
    throw new UsageError(`no help for "${topic}" (commands: transcribe, check)`);
  }
  if (first === 'transcribe') {
    const { values: v, positionals } = parse(rest, transcribeOptions);
    if (v.help) return { command: 'help', text: TRANSCRIBE_USAGE };
    if (positionals.length === 0) throw new UsageError('transcribe needs a file (or - for stdin)');
    if (positionals.length > 1) throw new UsageError(`transcribe takes one file, got ${positionals.length}: ${positionals.join(' ')}`);
    if (v.realtime && v.speed !== undefined) throw new UsageError('--realtime and --speed exclude each other (--realtime is --speed 1)');
    const encoding = v.encoding as AudioEncoding | undefined;
    if (encoding !== undefined && !AUDIO_ENCODINGS.includes(encoding)) {
      throw new UsageError(`--encoding must be one of ${AUDIO_ENCODINGS.join(', ')}, got "${v.encoding}"`);
    }
    const rate = number('rate', v.rate, (n) => Number.isInteger(n) && n >= MIN_SAMPLE_RATE && n <= MAX_SAMPLE_RATE, `an integer from ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE} (Hz)`);
    if ((encoding === undefined) !== (rate === undefined)) throw new UsageError('raw audio needs both --encoding and --rate');
    const speed = v.realtime ? 1 : number('speed', v.speed, (n) => n > 0 && n <= 1000, 'a number above 0 (times real time)');
    const finalizeOnSilenceMs = number('finalize-on-silence', v['finalize-on-silence'], (n) => Number.isInteger(n) && n >= 20 && n <= 10_000, 'an integer from 20 to 10000 (ms)');
    const giveUpAfterMs = number('give-up-after', v['give-up-after'], (n) => Number.isInteger(n) && n >= 0 && n <= 600_000, 'an integer from 0 to 600000 (ms)');
    return {
      command: 'transcribe',
      ...providerFlags(v),
      input: positionals[0]!,
      ...(encoding ? { encoding, rate } : {}),
      ...(speed !== undefined ? { speed } : {}),
      ...(finalizeOnSilenceMs !== undefined ? { finalizeOnSilenceMs } : {}),
      ...(giveUpAfterMs !== undefined ? { giveUpAfterMs } : {}),
      partials: v['no-partials'] !== true,
      ...(v.script !== undefined ? { script: v.script } : {}),
    };
  }
  if (first === 'check') {
    const { values: v, positionals } = parse(rest, checkOptions);
    if (v.help) return { command: 'help', text: CHECK_USAGE };
    if (positionals.length > 0) throw new UsageError(`check takes no arguments, got: ${positionals.join(' ')}`);
    const timeoutMs = number('timeout', v.timeout, (n) => Number.isInteger(n) && n >= 100 && n <= 600_000, 'an integer from 100 to 600000 (ms)') ?? 10_000;
    return { command: 'check', ...providerFlags(v), timeoutMs };
  }
  throw new UsageError(`unknown command "${first}" (commands: transcribe, check, help)`);
}
