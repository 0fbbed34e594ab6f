/**
 * Twilio-paced playback: 20 ms mu-law frames at real time (or `speed` times
 * faster), drift-corrected against a start time (a late timer writes the
 * frames that are due, as a socket delivers frames that queued up).
 */
import { FRAME_BYTES, FRAME_MS } from './sample-call.js';

export interface Playback {
  /** `performance.now()` when each frame was written. */
  writtenAt: Float64Array;
  /** Resolves after the last frame was written. */
  done: Promise<void>;
  /** Stop early (no more writes). */
  stop(): void;
}

export function play(data: Uint8Array, write: (frame: Uint8Array) => void, speed = 1): Playback {
  const total = Math.ceil(data.length / FRAME_BYTES);
  const writtenAt = new Float64Array(total);
  const frameWallMs = FRAME_MS / speed;
  const t0 = performance.now();
  let k = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  const tick = (): void => {
    timer = undefined;
    if (stopped) return;
    const now = performance.now();
    const due = Math.min(total, Math.floor((now - t0) / frameWallMs) + 1);
    while (k < due) {
      writtenAt[k] = now;
      write(data.subarray(k * FRAME_BYTES, Math.min((k + 1) * FRAME_BYTES, data.length)));
      k++;
    }
    if (k >= total) {
      resolveDone();
      return;
    }
    // whole milliseconds: Node keeps one timer list per distinct duration, and fractional delays
    // would give every tick a list of its own (harness cost that is not the library's)
    timer = setTimeout(tick, Math.max(0, Math.ceil(t0 + k * frameWallMs - performance.now())));
  };
  queueMicrotask(tick); // not synchronously: the caller gets the Playback before the first write
  return {
    writtenAt,
    done,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      resolveDone();
    },
  };
}

/** When the audio at stream position `ms` was written (the frame that contains it). */
export function writtenAtMs(p: Playback, ms: number): number {
  const i = Math.min(p.writtenAt.length - 1, Math.max(0, Math.ceil(ms / FRAME_MS) - 1));
  return p.writtenAt[i]!;
}
