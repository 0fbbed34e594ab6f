/**
 * When a WhisperLive session may send `END_OF_AUDIO`.
 *
 * The server (collabora/WhisperLive `backend/base.py`) transcribes in passes:
 * each pass takes the audio from the end of the last committed segment to the
 * end of what it has received (once that is at least 1 s), runs the model
 * (seconds on a CPU), commits every segment but the last, and sends an update.
 * On `END_OF_AUDIO` it stops at once: audio it has not transcribed yet, and
 * the pass under way, are lost (its log then shows a failed send to a client
 * that left). So the client must not send `END_OF_AUDIO` until the server's
 * transcript covers the speech sent. It does when:
 *
 * - `no-speech`: no speech was sent after the last committed segment;
 * - `committed`: the committed segments reach the end of the speech sent;
 * - `partial-covers`: the in-progress segment of an update received after the
 *   last audio (and the end padding) went out reaches the end of the speech;
 * - `full-pass`: two updates arrived {@link LATENCY_ALLOWANCE_MS} or more after
 *   the last audio went out. The server runs one pass at a time, so the pass
 *   behind the second one started after the first was sent, by which time the
 *   server had all the audio (allowing that long for it to cross the network):
 *   its transcript is the server's transcription of everything. Updates that
 *   arrive sooner may come from passes over audio received before the end,
 *   which is what happens when audio is written faster than real time.
 *
 * In the last two cases the in-progress segment is the server's final word on
 * that audio (the server would only commit it once the next utterance starts,
 * or after `same_output_threshold` identical passes), so it is delivered as the
 * final. Nothing else ever is: if none of these happens within the end
 * timeout, the session ends with `'timeout'` and the stream recovers the audio.
 * @module
 * @internal
 */

/** What the decision looks at. Times are ms since the session's first audio byte. */
export interface CoverageState {
  /** End of the last speech the session's endpointer heard in the audio sent (0: none). */
  speechEndMs: number;
  /** End of the last committed segment (`-Infinity`: none). */
  committedEndMs: number;
  /** The in-progress segment, if any. */
  pending?: { endMs: number };
  /** All audio, the end padding included, has been handed to the network. */
  flushed: boolean;
  /** Updates received since then. */
  updatesSinceFlush: number;
  /** Updates received {@link LATENCY_ALLOWANCE_MS} or more after the flush. */
  lateUpdates: number;
}

/** Why the session may send `END_OF_AUDIO`, or `'wait'`. */
export type EndDecision = 'wait' | 'no-speech' | 'committed' | 'partial-covers' | 'full-pass';

/**
 * Resolution of the comparisons, ms: two 10 ms frames of the endpointer (its speech end is the end of
 * a frame) and Whisper's timestamp step (20 ms). No slack beyond it: a segment ending before
 * the speech does may come from a pass that did not have the last word yet (a segment never ends
 * after the audio its pass had), and the next rules cover that case.
 */
export const TIME_RESOLUTION_MS = 20;

/** Time allowed for the last audio written to reach the server, ms. */
export const LATENCY_ALLOWANCE_MS = 1000;

/** Decide; see the module comment. */
export function decideEndOfAudio(s: CoverageState): EndDecision {
  if (!s.pending) {
    if (s.speechEndMs <= 0) return 'no-speech';
    if (s.committedEndMs + TIME_RESOLUTION_MS >= s.speechEndMs) return 'committed';
  }
  if (!s.flushed || s.updatesSinceFlush === 0) return 'wait';
  if (s.pending && s.pending.endMs + TIME_RESOLUTION_MS >= s.speechEndMs) return 'partial-covers';
  return s.lateUpdates >= 2 ? 'full-pass' : 'wait';
}
