/**
 * The lines at the bottom of a terminal that are redrawn in place (the
 * partial transcript being recognised, the progress bar), below the lines
 * that stay (finals, notices). Cursor movement and erasing go through Node's
 * `readline` terminal API; each live line is cut to the terminal width first,
 * so none wraps and the region is always exactly as tall as its line count.
 * @module
 */
import readline from 'node:readline';
import type { WriteStream } from 'node:tty';
import { truncate } from './width.js';

/** The redrawn lines at the bottom of a terminal, and printing above them. */
export class LiveRegion {
  /** Lines drawn now (0 when cleared). */
  private drawn = 0;
  private lines: string[] = [];

  constructor(private readonly out: WriteStream) {}

  /** Replace the live lines (drawn at once). */
  set(lines: string[]): void {
    this.lines = lines;
    this.redraw();
  }

  /** Print `text` as a permanent line above the live lines. */
  print(text: string): void {
    this.erase();
    this.out.write(`${text}\n`);
    this.draw();
  }

  /** Erase the live lines for good (before the summary). */
  done(): void {
    this.erase();
    this.lines = [];
  }

  private redraw(): void {
    this.erase();
    this.draw();
  }

  private draw(): void {
    const columns = Math.max(20, (this.out.columns || 80) - 1);
    const lines = this.lines.filter((l) => l !== '');
    if (lines.length === 0) return;
    this.out.write(lines.map((l) => truncate(l, columns)).join('\n'));
    this.drawn = lines.length;
  }

  /** Move to the first live line and clear everything below it. */
  private erase(): void {
    if (this.drawn === 0) return;
    readline.cursorTo(this.out, 0);
    if (this.drawn > 1) readline.moveCursor(this.out, 0, -(this.drawn - 1));
    readline.clearScreenDown(this.out);
    this.drawn = 0;
  }
}
