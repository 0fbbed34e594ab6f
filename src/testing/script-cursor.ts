/**
 * The ground truth of one call, shared by every emulator that may recognise
 * part of it.
 *
 * An emulator given a plain `string[]` script restarts it on every
 * connection (one connection = one call). Reconnects and fallback break that
 * rule: the new connection (or the fallback provider) hears the audio replayed
 * from the last final on, so it must continue the script where the call got
 * to. Pass the same `ScriptCursor` to every emulator of the call: an utterance
 * takes the next line not yet delivered, and only a final that was actually
 * sent commits it.
 *
 * @example
 * ```ts
 * const truth = new ScriptCursor(['안녕하세요', '예약 확인해 주세요']);
 * const rtzr = await startRtzrEmulator({ script: truth });
 * const google = await startGoogleEmulator({ script: truth });
 * ```
 */
export class ScriptCursor {
  private next = 0;

  constructor(
    /** The script: ground-truth texts, one per utterance, in order. */
    readonly texts: readonly string[],
  ) {}

  /** Lines delivered so far (committed by a sent final). */
  get committed(): number {
    return this.next;
  }

  /** Text of line `committed + ahead` (`ahead`: utterances already open on the caller's connection). */
  peek(ahead = 0): string {
    return this.texts[this.next + ahead] ?? '(unscripted)';
  }

  /** A final for the next line was sent. */
  commit(): void {
    this.next++;
  }

  /** Start over (a new call). */
  reset(): void {
    this.next = 0;
  }
}

/** What emulators accept as a script. */
export type Script = readonly string[] | ScriptCursor;
