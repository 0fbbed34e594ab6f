/** Small statistics and table helpers for the bench. */

/** Nearest-rank percentile (p in 0–100); NaN for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function mean(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

export function round(v: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

const WIDE = /[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7A3]/;
const width = (s: string): number => [...s].reduce((w, ch) => w + (WIDE.test(ch) ? 2 : 1), 0);

/** A Markdown table, columns padded (Hangul counted double width). */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? (Number.isNaN(c) ? '-' : String(c)) : c)));
  const cols = header.map((h, i) => Math.max(width(h), ...cells.map((r) => width(r[i] ?? ''))));
  const line = (r: string[]) => `| ${r.map((c, i) => c + ' '.repeat(cols[i]! - width(c))).join(' | ')} |`;
  return [line(header), `|${cols.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n');
}
