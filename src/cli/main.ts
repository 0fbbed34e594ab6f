/**
 * `streaming-stt`: the command-line entry point (the package's `bin`). Parses
 * the command line, runs the command, and turns every expected failure into a
 * typed code on stderr and an exit status (see `errors.ts`), never a stack trace.
 * @module
 */
import { VERSION } from '../version.js';
import { parseCommandLine } from './args.js';
import { check } from './check.js';
import { describeError, EXIT, exitCodeOf } from './errors.js';
import { note, type Io } from './io.js';
import { transcribe } from './transcribe.js';

/** Run the command line `argv` (without `node` and the script); resolves the exit status. */
export async function main(argv: string[], io: Io): Promise<number> {
  try {
    const cmd = parseCommandLine(argv);
    switch (cmd.command) {
      case 'help':
        io.stdout.write(`${cmd.text}\n`);
        return EXIT.ok;
      case 'version':
        io.stdout.write(`${VERSION}\n`);
        return EXIT.ok;
      case 'transcribe':
        return await transcribe(cmd, io);
      case 'check':
        return await check(cmd, io);
    }
  } catch (err) {
    for (const line of describeError(err)) note(io, line);
    const code = exitCodeOf(err);
    if (code === EXIT.usage) note(io, 'see: streaming-stt help');
    return code;
  }
}

/** Run as the process: Ctrl-C stops the command (a second one exits at once). */
export function runProcess(): void {
  const interrupt = new AbortController();
  process.once('SIGINT', () => {
    interrupt.abort();
    process.once('SIGINT', () => process.exit(EXIT.interrupted));
  });
  // A reader that goes away (`| head`) is not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? EXIT.ok);
  });
  const io: Io = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal: interrupt.signal };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}

runProcess();
