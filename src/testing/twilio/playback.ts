/**
 * The caller's side of outbound audio: `media` the server sends queues up and "plays" in
 * (scaled) real time; a `mark` is echoed once the media queued before it has played; `clear`
 * drops the queue and echoes every pending mark at once.
 *
 * Twilio docs (https://www.twilio.com/docs/voice/media-streams/websocket-messages): "mark"
 * messages are sent back when the media before them has played, and when the server sends
 * "clear", Twilio empties the audio buffer and sends back the pending marks.
 * @module
 * @internal
 */

/** mu-law bytes per millisecond at 8 kHz. */
const BYTES_PER_MS = 8;

/** Outbound playback of one simulated call. */
export class Playback {
  /** Wall time (performance.now()) when the queued audio will have played. */
  private playsUntil = 0;
  private readonly pending = new Map<NodeJS.Timeout, string>();

  /**
   * @param speed - the call's speed factor (0: audio plays instantly).
   * @param echo - sends a mark back to the server.
   */
  constructor(
    private readonly speed: number,
    private readonly echo: (name: string) => void,
  ) {}

  /** Queue `bytes` of mu-law audio. */
  media(bytes: number): void {
    const now = performance.now();
    const ms = this.speed === 0 ? 0 : bytes / BYTES_PER_MS / this.speed;
    this.playsUntil = Math.max(now, this.playsUntil) + ms;
  }

  /** Echo `name` once the queued audio has played. */
  mark(name: string): void {
    const wait = this.playsUntil - performance.now();
    if (wait <= 0 && this.pending.size === 0) {
      this.echo(name);
      return;
    }
    const t = setTimeout(() => {
      this.pending.delete(t);
      this.echo(name);
    }, Math.max(0, Math.ceil(wait)));
    this.pending.set(t, name);
  }

  /** Drop queued audio; echo pending marks now, in order. */
  clear(): void {
    this.playsUntil = 0;
    const names = [...this.pending.entries()];
    this.dispose();
    for (const [, name] of names) this.echo(name);
  }

  /** Forget pending marks without echoing them (the call is over). */
  dispose(): void {
    for (const t of this.pending.keys()) clearTimeout(t);
    this.pending.clear();
  }
}
