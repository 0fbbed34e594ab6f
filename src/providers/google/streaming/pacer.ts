/**
 * Real-time pacing of one gRPC stream's audio: a token bucket of audio
 * milliseconds, `burstMs` deep, refilled at one audio millisecond per
 * wall-clock millisecond. A burst (a replay, audio queued while connecting)
 * goes out at once up to `burstMs`; after that, audio leaves no faster than
 * real time. Google wants streaming audio "at a rate that approximates real
 * time" and ends a stream sent "too fast" with `OUT_OF_RANGE`.
 * Source: https://cloud.google.com/speech-to-text/docs/quotas#content.
 * @module
 * @internal
 */

/** @internal */
export class RealtimePacer {
  private tokens: number;
  private at: number;

  /**
   * @param burstMs - bucket depth, audio ms.
   * @param now - wall clock, ms (`performance.now()`).
   */
  constructor(
    private readonly burstMs: number,
    now: number,
  ) {
    this.tokens = burstMs;
    this.at = now;
  }

  /**
   * Ask to send `audioMs` of audio at `now`. Returns 0 when it may go now (and takes it from the
   * bucket), else how long to wait, ms. A chunk longer than the bucket goes when the bucket is full.
   */
  take(audioMs: number, now: number): number {
    this.tokens = Math.min(this.burstMs, this.tokens + Math.max(0, now - this.at));
    this.at = Math.max(this.at, now);
    const need = Math.min(audioMs, this.burstMs);
    if (this.tokens + 1e-6 < need) return need - this.tokens;
    this.tokens -= audioMs;
    return 0;
  }
}
