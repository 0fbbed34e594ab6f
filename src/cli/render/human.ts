/**
 * Human-readable output, as `npm run demo` prints it: finals with their times
 * and latency, reconnects and fallbacks as they happen, a summary table with
 * the token and socket costs. On a terminal, the partial being recognised and
 * a progress bar are redrawn in place below the finals; elsewhere (`--text`
 * into a pipe) only the lines that stay are written.
 * @module
 */
import type { WriteStream } from 'node:tty';
import { styleText } from 'node:util';
import type { SttError } from '../../errors/index.js';
import type { FallbackEvent, ReconnectEvent, StreamSummary, Transcript, UtteranceMetrics } from '../../stream/types.js';
import { LiveRegion } from './live-region.js';
import type { RunInfo, TranscribeRenderer } from './renderer.js';
import { formatTable } from './table.js';
import { truncateStart } from './width.js';

type Style = Parameters<typeof styleText>[0];

const seconds = (ms: number) => (ms / 1000).toFixed(2);
const BAR_WIDTH = 30;

/** `[████████░░░░░░]`-style bar for a fraction 0..1. */
function bar(fraction: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * BAR_WIDTH);
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

/** Lines for people: redrawn in place on a terminal, plain into a pipe (`--text`). */
export class HumanRenderer implements TranscribeRenderer {
  private readonly live: LiveRegion | undefined;
  private readonly color: boolean;
  private info: RunInfo | undefined;
  private partialLine = '';
  private progressLine = '';
  private lastProgressAt = 0;
  private readonly finals = new Map<number, Transcript>();
  private readonly rows: { t: Transcript; m: UtteranceMetrics }[] = [];

  /** @param out - stdout; live lines only when it is a terminal. */
  constructor(private readonly out: NodeJS.WritableStream & Partial<Pick<WriteStream, 'isTTY' | 'columns' | 'hasColors'>>) {
    const tty = out.isTTY === true;
    this.live = tty ? new LiveRegion(out as WriteStream) : undefined;
    this.color = tty && typeof out.hasColors === 'function' && out.hasColors();
  }

  private paint(style: Style, text: string): string {
    return this.color ? styleText(style, text) : text;
  }

  private line(text: string): void {
    if (this.live) this.live.print(text);
    else this.out.write(`${text}\n`);
  }

  private redraw(): void {
    this.live?.set([this.partialLine, this.progressLine]);
  }

  start(info: RunInfo): void {
    this.info = info;
    const f = info.format;
    const what = `${info.durationMs !== undefined ? `${(info.durationMs / 1000).toFixed(1)} s of ` : ''}${f.encoding === 'linear16' ? 'LINEAR16' : f.encoding} ${f.sampleRate / 1000} kHz mono`;
    const pace = info.speed === undefined ? 'as fast as the provider accepts' : info.speed === 1 ? 'real time' : `${info.speed}× real time`;
    const providers = `${info.providers.join(' → ')}${info.emulated ? ' (emulated)' : ''}`;
    this.line(this.paint('bold', `${info.input === '-' ? 'stdin' : info.input}: ${what} → ${providers}, ${pace}`));
    if (info.finalizeOnSilenceMs) this.line(this.paint('dim', `  finalize() after ${info.finalizeOnSilenceMs} ms of silence`));
  }

  progress(sentMs: number): void {
    if (!this.live) return;
    const now = performance.now();
    const total = this.info?.durationMs;
    const done = total !== undefined && sentMs >= total;
    if (!done && now - this.lastProgressAt < 100) return;
    this.lastProgressAt = now;
    this.progressLine =
      total !== undefined && total > 0
        ? `  ${bar(sentMs / total)} ${String(Math.round((100 * Math.min(sentMs, total)) / total)).padStart(3)}%  ${(sentMs / 1000).toFixed(1)} / ${(total / 1000).toFixed(1)} s`
        : `  ${(sentMs / 1000).toFixed(1)} s of audio sent`;
    this.redraw();
  }

  open(): void {}

  partial(t: Transcript): void {
    if (!this.live) return;
    const columns = Math.max(20, ((this.out as WriteStream).columns || 80) - 1);
    const prefix = `  … [${t.utteranceId}] `;
    this.partialLine = prefix + truncateStart(t.text, columns - prefix.length);
    this.redraw();
  }

  final(t: Transcript): void {
    this.finals.set(t.utteranceId, t);
    this.partialLine = '';
    if (this.live) this.live.set([this.partialLine, this.progressLine]);
    this.line(
      `  ${this.paint('green', '✔')} [${t.utteranceId}] ${t.text}    ${this.paint(
        'dim',
        `(${seconds(t.startMs)}–${seconds(t.endMs)} s, final ${t.latencyMs ?? '?'} ms after its last audio was written, ${t.provider})`,
      )}`,
    );
  }

  metrics(m: UtteranceMetrics): void {
    const t = this.finals.get(m.utteranceId);
    if (t) this.rows.push({ t, m });
  }

  reconnect(ev: ReconnectEvent): void {
    this.line(this.paint('yellow', `  ↻ ${ev.provider}: ${ev.reason.code}; reconnect attempt ${ev.attempt} in ${ev.delayMs} ms`));
  }

  fallback(ev: FallbackEvent): void {
    this.line(
      this.paint('yellow', `  ⇢ fallback ${ev.from} → ${ev.to} (${ev.reason.code}); replaying ${ev.replayedMs} ms of audio not yet final`),
    );
  }

  finalized(): void {}

  error(err: SttError): void {
    this.line(this.paint('red', `  ✖ ${err.code}: ${err.message}`));
  }

  end(summary: StreamSummary, wallMs: number): void {
    this.live?.done();
    const out = (s = '') => this.out.write(`${s}\n`);
    if (this.rows.length > 0) {
      out();
      out(this.paint('bold', 'Summary (per utterance)'));
      const header = ['utt', 'provider', 'text', 'start s', 'end s', 'token ms', 'socket ms', 'first partial ms', 'final ms'];
      const rows = this.rows.map(({ t, m }) => [
        String(m.utteranceId),
        m.provider,
        t.text,
        seconds(t.startMs),
        seconds(t.endMs),
        m.tokenCached ? `${m.tokenMs} (cached)` : String(m.tokenMs),
        m.connectionReused ? '0 (reused)' : m.prewarmed ? '0 (pre-warmed)' : String(m.connectMs),
        m.firstPartialMs === undefined ? '-' : String(m.firstPartialMs),
        String(m.finalLatencyMs),
      ]);
      for (const l of formatTable(header, rows)) out(l);
      out();
      const first = this.rows[0]!.m;
      const lat = this.rows.map((r) => r.m.finalLatencyMs).sort((a, b) => a - b);
      const mean = Math.round(lat.reduce((a, b) => a + b, 0) / lat.length);
      const onFirst = this.rows.filter((r) => r.m.provider === first.provider).length;
      out(
        `token ${first.tokenCached ? 'cached (0 ms)' : `${first.tokenMs} ms`}, socket ${first.prewarmed ? 'pre-warmed (0 ms)' : `${first.connectMs} ms`} once for ${onFirst} utterance(s) on ${first.provider}; ` +
          `final latency mean ${mean} ms, p50 ${lat[Math.ceil(lat.length / 2) - 1]} ms, max ${lat[lat.length - 1]} ms`,
      );
    } else {
      out();
    }
    const speed = wallMs > 0 ? ` (${(summary.audioMs / wallMs).toFixed(1)}× real time)` : '';
    out(
      `${summary.transcripts.length} final(s), ${(summary.audioMs / 1000).toFixed(1)} s of audio in ${(wallMs / 1000).toFixed(1)} s${speed}; ` +
        `providers ${summary.providers.join(' → ') || '-'}; ${summary.reconnects} reconnect(s), ${summary.fallbacks} fallback(s)`,
    );
  }
}
