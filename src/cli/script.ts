/**
 * The emulators' ground truth for a recording: the texts of its utterances, in
 * order (what each emulator "recognises" when its endpointer detects speech).
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError } from './errors.js';

/** Texts from JSON (`["…", …]` or `{ utterances: [{ text }] }`) or plain text (one utterance per line). */
export function parseScript(content: string, name: string): string[] {
  const trimmed = content.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch (err) {
      throw new InputError('INVALID_SCRIPT', `${name} is not valid JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(data) ? data : (data as { utterances?: unknown }).utterances;
    if (!Array.isArray(list)) throw new InputError('INVALID_SCRIPT', `${name}: expected an array of texts or { utterances: [{ text }] }`);
    return list.map((u, i) => {
      const text = typeof u === 'string' ? u : (u as { text?: unknown })?.text;
      if (typeof text !== 'string') throw new InputError('INVALID_SCRIPT', `${name}: utterance ${i} has no text`);
      return text;
    });
  }
  return trimmed.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
}

/** Read a script file (`--script`). */
export async function loadScript(file: string): Promise<string[]> {
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (err) {
    throw new InputError('FILE_NOT_FOUND', `cannot read the script ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  return parseScript(content, file);
}

/**
 * The ground truth next to a recording: the `.json` file in its directory whose name (without
 * `.json`) is the longest prefix of the recording's name followed by `-`, `_` or `.` (or the same
 * name), with `utterances[].text`. `call-ko.json` for `call-ko-16k-linear16.wav`.
 */
export async function findScript(recording: string): Promise<{ file: string; texts: string[] } | undefined> {
  const dir = path.dirname(recording);
  const base = path.basename(recording, path.extname(recording));
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  const candidates = names
    .filter((n) => n.endsWith('.json'))
    .map((n) => n.slice(0, -5))
    .filter((stem) => base === stem || (base.startsWith(stem) && /[-_.]/.test(base[stem.length] ?? '')))
    .sort((a, b) => b.length - a.length);
  for (const stem of candidates) {
    const file = path.join(dir, `${stem}.json`);
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as { utterances?: { text?: unknown }[] };
      if (Array.isArray(data.utterances) && data.utterances.every((u) => typeof u?.text === 'string')) {
        return { file, texts: data.utterances.map((u) => u.text as string) };
      }
    } catch {
      // not a script: try the next candidate
    }
  }
  return undefined;
}
