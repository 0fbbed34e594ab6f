/**
 * Async iteration over a stream's events. Events are buffered only while an
 * iterator is attached, and the buffer is bounded (oldest partials are
 * dropped first: a later partial or the final supersedes them).
 * @module
 */
import type { EventEmitter } from 'eventemitter3';
import type { SttError } from '../errors/index.js';
import type { RecognitionEvent, RecognitionStreamEvents, StreamSummary } from './types.js';

/** Most events buffered for a slow iterator. @internal */
export const MAX_ITERATOR_BUFFER = 2048;

/** @internal */
export function iterateEvents(
  emitter: EventEmitter<RecognitionStreamEvents>,
  closedSummary: () => StreamSummary | undefined,
): AsyncIterableIterator<RecognitionEvent> {
  type Item = RecognitionEvent | { type: '__error'; error: SttError };
  const buffer: Item[] = [];
  let done = false;
  let wake: (() => void) | undefined;

  const push = (ev: Item): void => {
    buffer.push(ev);
    if (buffer.length > MAX_ITERATOR_BUFFER) {
      const i = buffer.findIndex((e) => e.type === 'partial');
      buffer.splice(i >= 0 ? i : 0, 1);
    }
    wake?.();
  };
  const listeners = {
    state: (e: import('./types.js').StateEvent) => push({ type: 'state', ...e }),
    open: (e: { provider: string }) => push({ type: 'open', ...e }),
    speechstart: (e: { utteranceId: number; startMs: number }) => push({ type: 'speechstart', ...e }),
    partial: (t: RecognitionEvent) => push(t),
    final: (t: RecognitionEvent) => push(t),
    speechend: (e: { utteranceId: number; endMs: number }) => push({ type: 'speechend', ...e }),
    metrics: (m: import('./types.js').UtteranceMetrics) => push({ type: 'metrics', metrics: m }),
    reconnect: (e: import('./types.js').ReconnectEvent) => push({ type: 'reconnect', ...e }),
    fallback: (e: import('./types.js').FallbackEvent) => push({ type: 'fallback', ...e }),
    warning: (e: import('./types.js').StreamWarning) => push({ type: 'warning', ...e }),
    handover: (e: import('./types.js').HandoverEvent) => push({ type: 'handover', ...e }),
    error: (e: SttError) => push({ type: '__error', error: e }),
    close: (summary: StreamSummary) => {
      push({ type: 'close', summary });
      detach();
    },
  };
  const detach = (): void => {
    done = true;
    for (const [name, fn] of Object.entries(listeners)) emitter.off(name as keyof RecognitionStreamEvents, fn as never);
    wake?.();
  };

  const already = closedSummary();
  if (already) {
    buffer.push({ type: 'close', summary: already });
    done = true;
  } else {
    for (const [name, fn] of Object.entries(listeners)) emitter.on(name as keyof RecognitionStreamEvents, fn as never);
  }

  const iterator: AsyncIterableIterator<RecognitionEvent> = {
    [Symbol.asyncIterator]() {
      return iterator;
    },
    async next(): Promise<IteratorResult<RecognitionEvent>> {
      for (;;) {
        const ev = buffer.shift();
        if (ev?.type === '__error') {
          buffer.length = 0;
          if (!done) detach();
          throw ev.error;
        }
        if (ev) return { value: ev, done: false };
        if (done) return { value: undefined, done: true };
        await new Promise<void>((r) => (wake = r));
        wake = undefined;
      }
    },
    async return(): Promise<IteratorResult<RecognitionEvent>> {
      if (!done) detach();
      buffer.length = 0;
      return { value: undefined, done: true };
    },
  };
  return iterator;
}
