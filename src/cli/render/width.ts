/**
 * Display width of text in a terminal: Hangul, CJK and other East Asian wide
 * characters take two columns (Unicode UAX #11, via `get-east-asian-width`),
 * so live lines can be kept within the terminal width and table columns line up.
 * @module
 */
import { eastAsianWidth } from 'get-east-asian-width';

/** Combining marks and zero-width characters take no column. */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}]/u;

function charWidth(ch: string): number {
  if (ZERO_WIDTH.test(ch)) return 0;
  const cp = ch.codePointAt(0)!;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return 0;
  return eastAsianWidth(cp);
}

/** Columns `text` takes in a terminal. */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) w += charWidth(ch);
  return w;
}

/** `text` cut to at most `columns` columns, with `…` where it was cut (the start is kept). */
export function truncate(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let w = 0;
  let out = '';
  for (const ch of text) {
    const cw = charWidth(ch);
    if (w + cw > columns - 1) break;
    out += ch;
    w += cw;
  }
  return `${out}…`;
}

/** `text` cut to at most `columns` columns, keeping its end (for a partial transcript that grows). */
export function truncateStart(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  const chars = [...text];
  let w = 0;
  let i = chars.length;
  while (i > 0 && w + charWidth(chars[i - 1]!) <= columns - 1) w += charWidth(chars[--i]!);
  return `…${chars.slice(i).join('')}`;
}

/** `text` padded with spaces to `columns` columns. */
export function padEnd(text: string, columns: number): string {
  return text + ' '.repeat(Math.max(0, columns - displayWidth(text)));
}
