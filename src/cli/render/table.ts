/**
 * A plain-text table (columns separated by two spaces, a rule under the
 * header), aligned by display width so Hangul text lines up.
 * @module
 */
import { displayWidth, padEnd } from './width.js';

/** Lines of a table; the last column is not padded. */
export function formatTable(header: string[], rows: string[][]): string[] {
  const cols = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : padEnd(c, cols[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), cols.map((w) => '─'.repeat(w)).join('  '), ...rows.map(line)];
}
