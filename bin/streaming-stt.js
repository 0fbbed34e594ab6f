#!/usr/bin/env node
/* global process, URL */
// The `streaming-stt` command. From the published package it runs the built CLI (dist/cli.js).
// In a git checkout (src/ is present, devDependencies installed) it runs the TypeScript source
// through tsx, so `npx streaming-stt` works right after `npm ci` and never runs a stale build.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const source = new URL('../src/cli/main.ts', import.meta.url);
const built = new URL('../dist/cli.js', import.meta.url);

function tsxAvailable() {
  try {
    createRequire(import.meta.url).resolve('tsx/esm/api');
    return true;
  } catch {
    return false;
  }
}

if (existsSync(source) && tsxAvailable()) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else if (existsSync(built)) {
  await import(built.href);
} else {
  process.stderr.write(
    'streaming-stt: error NOT_BUILT: neither dist/cli.js nor tsx is available; run `npm ci` (with devDependencies) or `npm run build`\n',
  );
  process.exitCode = 1;
}
