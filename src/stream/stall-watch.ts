/**
 * Stall detection for one connection: speech went out and no result came back
 * for `timeoutMs`.
 *
 * "For `timeoutMs`" counts both wall time and audio sent (spec §8): the watch
 * fires when either has passed the allowance since the first unanswered
 * speech, with audio counted at most `audioFactor` × the wall time (a burst of
 * replayed or recorded audio sent in a few milliseconds gives the provider no
 * time to answer, so it may only bring the deadline forward so far). Fed live
 * (1×), both clocks agree; fed at 4×, a stall is caught after a quarter of the
 * wall time, while the audio is still being sent. A provider whose results
 * take wall time whatever the pace (a Whisper server's model pass) is watched
 * with `audioFactor` 1: wall time only.
 *
 * A stall is never declared from inside a write or a timer callback: when the
 * allowance is used up, the watch lets the event loop poll I/O twice
 * (`setImmediate`, twice) and declares the stall only if still no result came.
 * A provider's answer may be sitting unread in our own socket while the
 * process was busy (a burst of writes, a loaded machine), and an in-process
 * server needs two I/O turns to read audio and have its answer read back.
 *
 * One timer at most, re-armed lazily: a result only clears the mark, and the
 * timer re-checks the deadline when it fires, so the write path sets no timer
 * per result.
 * @module
 */

/** Event-loop turns (each with an I/O poll) a suspected stall must survive. */
const CONFIRM_TURNS = 2;

/** What the watch found when it fired. @internal */
export interface Stall {
  /** Wall time since the first unanswered speech, ms. */
  wallMs: number;
  /** Audio sent since then, ms. */
  audioMs: number;
  /** The allowance, ms. */
  timeoutMs: number;
}

/** @internal */
export class StallWatch {
  private timeoutMs = 0;
  private audioFactor = 1;
  /** Wall time (performance.now()) of the first speech sent with no result since; −1: nothing owed. */
  private since = -1;
  /** Audio position sent at that moment, ms. */
  private sinceAudioMs = 0;
  private lastAudioMs = 0;
  private timer: NodeJS.Timeout | undefined;
  private confirming: NodeJS.Immediate | undefined;
  private turns = 0;

  constructor(private readonly onStall: (stall: Stall) => void) {}

  /** Whether speech was sent that still waits for a result. */
  get owed(): boolean {
    return this.since >= 0;
  }

  /**
   * Watch a new connection. `timeoutMs` 0 disables the watch.
   * @param audioFactor - audio counts at most this many times the wall time (1: wall time only).
   */
  reset(timeoutMs: number, audioFactor: number): void {
    this.stop();
    this.timeoutMs = timeoutMs;
    this.audioFactor = Math.max(1, audioFactor);
  }

  /**
   * Audio went out on the connection.
   * @param now - performance.now().
   * @param audioMs - position of the audio sent so far, ms (any origin, increasing).
   * @param speech - the audio sent contains speech.
   */
  sent(now: number, audioMs: number, speech: boolean): void {
    this.lastAudioMs = audioMs;
    if (this.since < 0) {
      if (!speech || this.timeoutMs <= 0) return;
      this.since = now;
      this.sinceAudioMs = audioMs;
      this.schedule(this.timeoutMs);
      return;
    }
    if (this.elapsed(now) >= this.timeoutMs) this.suspect();
  }

  /** A result arrived: nothing is owed until more speech goes out. */
  result(): void {
    this.since = -1;
  }

  /** Stop watching (the connection is ending or gone). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.confirming) clearImmediate(this.confirming);
    this.confirming = undefined;
    this.since = -1;
  }

  private elapsed(now: number): number {
    const wall = now - this.since;
    return Math.max(wall, Math.min(this.lastAudioMs - this.sinceAudioMs, wall * this.audioFactor));
  }

  private schedule(inMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.since < 0) return;
      const left = this.timeoutMs - (performance.now() - this.since);
      if (left <= 0) this.suspect();
      else this.schedule(left);
    }, Math.max(1, Math.ceil(inMs)));
  }

  /** The allowance is used up: give pending I/O two event-loop turns to bring a result. */
  private suspect(): void {
    if (this.confirming) return;
    this.turns = 0;
    const since = this.since;
    const confirm = (): void => {
      this.confirming = undefined;
      if (this.since !== since) return; // a result came (and maybe new speech since)
      if (++this.turns < CONFIRM_TURNS) this.confirming = setImmediate(confirm);
      else this.fire(performance.now());
    };
    this.confirming = setImmediate(confirm);
  }

  private fire(now: number): void {
    const stall: Stall = {
      wallMs: Math.round(now - this.since),
      audioMs: Math.round(this.lastAudioMs - this.sinceAudioMs),
      timeoutMs: this.timeoutMs,
    };
    this.stop();
    this.onStall(stall);
  }
}
