/**
 * Stall detection on a fake clock: wall time and audio sent (spec §8), at any pace.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StallWatch, type Stall } from '../src/stream/stall-watch.js';

let stalls: (Stall & { at: number })[];
let watch: StallWatch;

beforeEach(() => {
  vi.useFakeTimers();
  stalls = [];
  watch = new StallWatch((s) => stalls.push({ ...s, at: performance.now() }));
});
afterEach(() => {
  watch.stop();
  vi.useRealTimers();
});

/** Let the two event-loop turns a suspected stall waits for go by (fake immediates need the clock to move). */
async function turns(): Promise<void> {
  await vi.advanceTimersByTimeAsync(1);
  await vi.advanceTimersByTimeAsync(1);
}

/** Send `ms` of audio in 20 ms frames at `pace` × real time, speech or not. */
async function send(from: number, ms: number, pace: number, speech = true): Promise<number> {
  for (let t = from + 20; t <= from + ms; t += 20) {
    await vi.advanceTimersByTimeAsync(20 / pace);
    watch.sent(performance.now(), t, speech);
  }
  return from + ms;
}

describe('StallWatch', () => {
  it('live (1x): a stall after timeoutMs of unanswered speech, not before', async () => {
    watch.reset(2000, 4);
    await send(0, 1980, 1);
    await turns();
    expect(stalls).toEqual([]);
    await send(1980, 100, 1);
    await turns();
    expect(stalls).toHaveLength(1);
    expect(stalls[0]!.wallMs).toBeGreaterThanOrEqual(2000);
    expect(stalls[0]!.timeoutMs).toBe(2000);
  });

  it('at 4x input pace, the stall is caught after a quarter of the wall time, while audio is still being sent', async () => {
    watch.reset(2000, 4);
    await send(0, 1900, 4);
    await turns();
    expect(stalls).toEqual([]);
    await send(1900, 200, 4);
    await turns();
    expect(stalls).toHaveLength(1);
    expect(stalls[0]!.audioMs).toBeGreaterThanOrEqual(2000);
    expect(stalls[0]!.wallMs).toBeLessThan(600);
  });

  it('a burst (far faster than replaySpeed) only counts up to audioFactor x the wall time', async () => {
    watch.reset(2000, 4);
    watch.sent(performance.now(), 20, true);
    watch.sent(performance.now(), 10_000, true); // 10 s of audio in no time: the provider had no time to answer
    await turns();
    expect(stalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(496);
    watch.sent(performance.now(), 10_020, false);
    await turns();
    expect(stalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    watch.sent(performance.now(), 10_040, false); // 500 ms of wall x 4 = 2000 ms
    await turns();
    expect(stalls).toHaveLength(1);
  });

  it('audioFactor 1 (a provider that answers in wall time, like a Whisper model pass): wall time only', async () => {
    watch.reset(2000, 1);
    await send(0, 4000, 4); // 1 s of wall
    await turns();
    expect(stalls).toEqual([]);
    await vi.advanceTimersByTimeAsync(900);
    expect(stalls).toEqual([]); // 1.9 s of wall
    await vi.advanceTimersByTimeAsync(200); // the timer checks the wall deadline
    await turns();
    expect(stalls).toHaveLength(1);
    expect(stalls[0]!.wallMs).toBeGreaterThanOrEqual(2000);
  });

  it('results keep it quiet; only speech arms it; silence alone never stalls', async () => {
    watch.reset(1000, 4);
    let t = 0;
    for (let i = 0; i < 20; i++) {
      t = await send(t, 300, 1);
      watch.result(); // a partial every 300 ms of speech
    }
    await send(t, 5000, 1, false); // a quiet line
    await vi.advanceTimersByTimeAsync(5000);
    expect(stalls).toEqual([]);
    expect(watch.owed).toBe(false);
  });

  it('a result that arrives while a stall is being confirmed (I/O the process had not read yet) cancels it', async () => {
    watch.reset(1000, 4);
    watch.sent(performance.now(), 20, true);
    await vi.advanceTimersByTimeAsync(1000); // the timer suspects a stall: two I/O turns to confirm
    watch.result(); // the answer was sitting in the socket
    await turns();
    expect(stalls).toEqual([]);
  });

  it('stop() and reset() clear every timer; timeoutMs 0 disables', async () => {
    watch.reset(1000, 4);
    watch.sent(performance.now(), 20, true);
    watch.stop();
    expect(vi.getTimerCount()).toBe(0);
    watch.reset(0, 4);
    await send(0, 5000, 1);
    await vi.advanceTimersByTimeAsync(5000);
    expect(stalls).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
