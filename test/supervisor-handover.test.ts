/**
 * Handover in the connection supervisor, on a fake clock: a connection opened ahead while the
 * serving one carries on, the switch at an utterance boundary, the bounds (handoverWaitMs,
 * maxStreamMs), failures of the connection opened ahead (never the serving one's business) and of
 * the serving one (recovered by §8, then the handover goes on), merging, ending and closing.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError, ConfigurationError, ConnectionError, RateLimitError, StateError, type SttError } from '../src/index.js';
import { ScriptedProvider, supervise } from './helpers/scripted-provider.js';
import type { ConnectSettings } from '../src/stream/connect-settings.js';
import type { Supervisor } from '../src/stream/supervisor.js';

/** Let promise chains settle without moving the clock. */
const flush = () => vi.advanceTimersByTimeAsync(0);

const KEYWORDS: ConnectSettings = { language: 'ko-KR', interimResults: true, keywords: ['상담원'] };

/** Where a promise got to (without awaiting it forever). */
function track(p: Promise<void>): { state: 'pending' | 'resolved' | 'rejected'; error?: SttError } {
  const t: { state: 'pending' | 'resolved' | 'rejected'; error?: SttError } = { state: 'pending' };
  p.then(
    () => (t.state = 'resolved'),
    (e: SttError) => {
      t.state = 'rejected';
      t.error = e;
    },
  );
  return t;
}

/** A supervisor whose stream is in the middle of an utterance (not at a boundary). */
async function midUtterance(...args: Parameters<typeof supervise>) {
  const r = supervise(...args);
  await flush();
  r.listener.boundary = false;
  return r;
}

/** Ask for a reconfigure to {@link KEYWORDS} and let the connection be opened ahead. */
async function reconfigure(sup: Supervisor) {
  const done = track(sup.handover({ reason: 'reconfigure', settings: KEYWORDS }));
  await flush();
  return done;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Supervisor handover: make-before-break at an utterance boundary', () => {
  it('opens the new connection ahead, keeps the old one serving until a boundary, then switches and closes the old one', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = supervise([p]);
    await flush();
    const old = sup.link!;
    listener.boundary = false; // an utterance is open on the serving connection
    const done = await reconfigure(sup);
    expect(p.connects).toHaveLength(2); // opened ahead
    expect(p.requests[1]!.options).toEqual({ keywords: ['상담원'] }); // the new settings reach connect()
    expect(sup.link).toBe(old); // still serving
    expect(p.sessions[0]!.aborted).toBe(false);
    p.sessions[0]!.result(); // results of the serving connection still reach the stream
    expect(listener.events.at(-1)).toBe('result p');
    await vi.advanceTimersByTimeAsync(5000);
    expect(done.state).toBe('pending');
    listener.boundary = true;
    sup.boundary(); // the stream: a final closed the last open utterance
    expect(listener.events.at(-1)).toBe('handover p>p reconfigure');
    expect(listener.handovers[0]!.forced).toBe(false);
    expect(sup.link).not.toBe(old);
    expect(sup.link!.settings).toEqual(KEYWORDS);
    expect(sup.connectSettings).toEqual(KEYWORDS);
    // closed quietly: no more audio now, the session closed a little later; whatever it sends is ignored
    expect(sup.link!.retired).toBe(false);
    expect(old.retired).toBe(true);
    p.sessions[0]!.result();
    p.sessions[0]!.fail(new ConnectionError('CONNECTION_LOST', 'late'));
    expect(p.sessions[0]!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(250);
    expect(p.sessions[0]!.aborted).toBe(true);
    expect(done.state).toBe('resolved');
    expect(listener.events).toEqual(['open p', 'result p', 'handover p>p reconfigure']);
    expect(sup.handovers).toBe(1);
    sup.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('switches as soon as the new connection is open when the stream is already at a boundary', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = supervise([p]);
    await flush();
    const done = await reconfigure(sup);
    expect(listener.events).toEqual(['open p', 'handover p>p reconfigure']);
    expect(done.state).toBe('resolved');
    sup.close();
  });

  it('a reconfigure with no boundary within handoverWaitMs is forced', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = await midUtterance([p], { fallback: { handoverWaitMs: 3000 } });
    const done = track(sup.handover({ reason: 'reconfigure', settings: KEYWORDS }));
    await vi.advanceTimersByTimeAsync(2999);
    expect(listener.handovers).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.events.at(-1)).toBe('handover p>p reconfigure forced');
    expect(done.state).toBe('resolved');
    sup.close();
  });

  it('requests made while one is pending merge: one connection with the latest settings, every promise settles with it', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = await midUtterance([p]);
    const first = await reconfigure(sup);
    const both: ConnectSettings = { ...KEYWORDS, language: 'en-US' };
    const second = track(sup.handover({ reason: 'reconfigure', settings: both }));
    await flush();
    expect(p.sessions[1]!.aborted).toBe(true); // opened ahead with the first settings: closed
    expect(p.requests[2]!.language).toBe('en-US');
    listener.boundary = true;
    sup.boundary();
    await flush();
    expect(listener.handovers).toHaveLength(1);
    expect(sup.link!.settings).toEqual(both);
    expect([first.state, second.state]).toEqual(['resolved', 'resolved']);
    sup.close();
  });
});

describe('Supervisor handover: failures', () => {
  it('a transient failure of the connection opened ahead is retried with backoff; the serving connection never notices', async () => {
    const refused = new ConnectionError('CONNECTION_FAILED', 'refused');
    const p = new ScriptedProvider('p', ['open', refused, refused]);
    const { sup, listener } = supervise([p]);
    await flush();
    const serving = sup.link;
    const done = await reconfigure(sup);
    expect(p.connects).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(99);
    expect(p.connects).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1); // retry 1 after minDelayMs
    expect(p.connects).toHaveLength(3);
    expect(sup.link).toBe(serving);
    await vi.advanceTimersByTimeAsync(200); // retry 2 after 2 × minDelayMs: opens
    expect(p.connects).toHaveLength(4);
    expect(done.state).toBe('resolved');
    expect(listener.events).toEqual(['open p', 'handover p>p reconfigure']); // no lost, no reconnect
    sup.close();
  });

  it('a permanent failure of the connection opened ahead rejects the handover at once; the serving connection and its settings stay', async () => {
    const rejected = new ConfigurationError('keywords rejected by the server (400 H0001)');
    const p = new ScriptedProvider('p', ['open', rejected]);
    const { sup, listener } = supervise([p]);
    await flush();
    const serving = sup.link;
    const done = await reconfigure(sup);
    expect(done).toEqual({ state: 'rejected', error: rejected });
    expect(sup.link).toBe(serving);
    expect(sup.connectSettings).toEqual({ language: 'ko-KR', interimResults: true });
    expect(sup.handoverPending).toBe(false);
    expect(listener.events).toEqual(['open p']);
    sup.close();
  });

  it('transient failures past reconnect.retries give the handover up', async () => {
    const p = new ScriptedProvider('p', ['open'], new RateLimitError('429'));
    const { sup } = supervise([p], { reconnect: { retries: 2, minDelayMs: 100, maxDelayMs: 1000 } });
    await flush();
    const done = track(sup.handover({ reason: 'reconfigure', settings: KEYWORDS }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.connects).toHaveLength(4); // the first try and 2 retries
    expect(done.state).toBe('rejected');
    expect(done.error!.code).toBe('RATE_LIMITED');
    sup.close();
  });

  it('the connection opened ahead failing while it waits for a boundary is retried, not the serving one', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = await midUtterance([p]);
    const done = await reconfigure(sup);
    p.sessions[1]!.fail(new ConnectionError('CONNECTION_LOST', 'dropped while waiting'));
    await vi.advanceTimersByTimeAsync(100);
    expect(p.connects).toHaveLength(3);
    listener.boundary = true;
    sup.boundary();
    await flush();
    expect(done.state).toBe('resolved');
    expect(sup.link!.session).toBe(p.sessions[2]);
    expect(listener.events).toEqual(['open p', 'handover p>p reconfigure']);
    sup.close();
  });

  it('the serving connection failing during a handover is recovered by §8; the handover then starts again and completes', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = await midUtterance([p]);
    const done = await reconfigure(sup);
    const ahead = p.sessions[1]!;
    p.sessions[0]!.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
    await flush();
    expect(ahead.aborted).toBe(true); // the attempt under way is closed
    await vi.advanceTimersByTimeAsync(300); // the reconnect's backoff
    // the reconnect uses the settings in use (proven), not the ones asked for
    expect(p.requests[2]!.options).toBeUndefined();
    expect(listener.events).toEqual(['open p', 'lost p CONNECTION_LOST', 'reconnect p 1', 'open p']);
    expect(p.connects).toHaveLength(4); // ... and the handover opened ahead again
    expect(p.requests[3]!.options).toEqual({ keywords: ['상담원'] });
    listener.boundary = true;
    sup.boundary();
    await flush();
    expect(done.state).toBe('resolved');
    expect(sup.link!.settings).toEqual(KEYWORDS);
    sup.close();
  });
});

describe('Supervisor handover: rotation before a provider stream limit', () => {
  it('opens ahead at rotateAfterMs, switches at the next boundary; the new connection gets its own timers', async () => {
    const p = new ScriptedProvider('p', [], 'open', { maxStreamMs: 10_000, rotateAfterMs: 6000 });
    const { sup, listener } = await midUtterance([p]);
    await vi.advanceTimersByTimeAsync(5999);
    expect(p.connects).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.connects).toHaveLength(2); // opened ahead
    await vi.advanceTimersByTimeAsync(1500);
    listener.boundary = true;
    sup.boundary();
    expect(listener.events.at(-1)).toBe('handover p>p rotation');
    // the new connection opened at 6000: it rotates at 12 000
    await vi.advanceTimersByTimeAsync(12_000 - 7500 - 1);
    expect(p.sessions[0]!.aborted).toBe(true);
    expect(p.connects).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.connects).toHaveLength(3);
    expect(listener.events.at(-1)).toBe('handover p>p rotation'); // at a boundary: at once
    expect(sup.handovers).toBe(2);
    sup.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('no boundary by maxStreamMs: the handover is forced then', async () => {
    const p = new ScriptedProvider('p', [], 'open', { maxStreamMs: 10_000, rotateAfterMs: 6000 });
    const { sup, listener } = await midUtterance([p], { fallback: { handoverWaitMs: 1000 } });
    await vi.advanceTimersByTimeAsync(9999); // a rotation does not give up after handoverWaitMs
    expect(listener.handovers).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(listener.events.at(-1)).toBe('handover p>p rotation forced');
    sup.close();
  });

  it('a rotation is dropped when the serving connection fails (the recovery opens a new one anyway)', async () => {
    const p = new ScriptedProvider('p', [], 'open', { maxStreamMs: 10_000, rotateAfterMs: 6000 });
    const { sup, listener } = await midUtterance([p]);
    await vi.advanceTimersByTimeAsync(6000);
    expect(p.connects).toHaveLength(2);
    p.sessions[0]!.fail(new ConnectionError('CONNECTION_LOST', 'dropped'));
    await flush();
    expect(p.sessions[1]!.aborted).toBe(true);
    expect(sup.handoverPending).toBe(false);
    expect(p.connects).toHaveLength(3); // the reconnect
    listener.boundary = true;
    sup.boundary();
    expect(listener.handovers).toEqual([]);
    sup.close();
  });
});

describe('Supervisor handover: switch-back to a recovered provider', () => {
  it('hands back to the recovered provider at the next boundary; the stream may use it again', async () => {
    const a = new ScriptedProvider('a', [new RateLimitError('429')]);
    const b = new ScriptedProvider('b');
    const { sup, listener } = supervise([a, b]);
    await flush();
    expect(sup.provider.id).toBe('b');
    listener.boundary = false;
    sup.recovered(a);
    await flush();
    expect(a.connects).toHaveLength(2);
    sup.boundary(); // not at a boundary: the stream would not call it; answer says no
    listener.boundary = true;
    sup.boundary();
    expect(listener.events.slice(-1)).toEqual(['handover b>a switchback']);
    expect(sup.provider.id).toBe('a');
    expect(sup.providersUsed).toEqual(['a', 'b', 'a']);
    await vi.advanceTimersByTimeAsync(250);
    expect(b.sessions[0]!.aborted).toBe(true);
    // a later failure of a falls back to b again, as after the first failure
    a.sessions[0]!.fail(new RateLimitError('429 again'));
    await flush();
    expect(listener.events.slice(-2)).toEqual(['fallback a>b RATE_LIMITED', 'open b']);
    sup.close();
  });

  it('no boundary within handoverWaitMs: the connection opened ahead is closed, tried again at the next boundary, at most 3 times', async () => {
    const a = new ScriptedProvider('a', [new RateLimitError('429')]);
    const b = new ScriptedProvider('b');
    const { sup, listener } = await midUtterance([a, b], { fallback: { handoverWaitMs: 2000 } });
    sup.recovered(a);
    await flush();
    expect(a.connects).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.sessions[0]!.aborted).toBe(true); // given up for now
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.connects).toHaveLength(2); // waits for a boundary
    sup.boundary(); // a boundary, too short for the new connection: opened ahead again
    await flush();
    expect(a.connects).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(2000);
    sup.boundary();
    await vi.advanceTimersByTimeAsync(2000);
    expect(a.connects).toHaveLength(4);
    sup.boundary(); // third time given up: stays on b
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.connects).toHaveLength(4);
    expect(sup.handoverPending).toBe(false);
    expect(sup.provider.id).toBe('b');
    expect(listener.handovers).toEqual([]);
    sup.close();
  });

  it('the recovered provider failing again while opened ahead: out of rotation again, the stream stays', async () => {
    const a = new ScriptedProvider('a', [new RateLimitError('429'), new ConnectionError('CONNECTION_FAILED', 'still down')]);
    const b = new ScriptedProvider('b');
    const { sup, listener, failedProviders } = supervise([a, b]);
    await flush();
    sup.recovered(a);
    await flush();
    expect(failedProviders).toEqual(['a', 'a']); // reported to the recognizer: probed again later
    expect(sup.handoverPending).toBe(false);
    expect(sup.provider.id).toBe('b');
    expect(listener.handovers).toEqual([]);
    sup.close();
  });

  it('a reconfigure merged into a switch-back goes on on the current provider when the switch-back target fails', async () => {
    const a = new ScriptedProvider('a', [new RateLimitError('429')], new ConnectionError('CONNECTION_FAILED', 'still down'));
    const b = new ScriptedProvider('b');
    const { sup, listener } = await midUtterance([a, b]);
    sup.recovered(a);
    const done = await reconfigure(sup);
    expect(b.connects).toHaveLength(2); // the reconfigure, on b
    listener.boundary = true;
    sup.boundary();
    await flush();
    expect(listener.events.at(-1)).toBe('handover b>b reconfigure');
    expect(done.state).toBe('resolved');
    sup.close();
  });
});

describe('Supervisor handover: the stream ends or closes', () => {
  it('stopHandovers (end()) gives a pending handover up with the error given, closes its connection, stops rotation', async () => {
    const p = new ScriptedProvider('p', [], 'open', { maxStreamMs: 10_000, rotateAfterMs: 6000 });
    const { sup } = await midUtterance([p]);
    const done = await reconfigure(sup);
    sup.stopHandovers(new StateError('ended'));
    await flush();
    expect(done.state).toBe('rejected');
    expect(done.error!.code).toBe('INVALID_STATE');
    expect(p.sessions[1]!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(p.connects).toHaveLength(2); // no rotation while ending
    await expect(sup.handover({ reason: 'reconfigure', settings: KEYWORDS })).rejects.toBeInstanceOf(StateError);
    sup.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() while a connection is opened ahead (or still connecting) rejects with AbortError and leaves nothing open', async () => {
    const p = new ScriptedProvider('p', ['open', 'hang']);
    const { sup } = await midUtterance([p], { fallback: { attemptTimeoutMs: 0 } });
    const done = await reconfigure(sup);
    expect(p.connects).toHaveLength(2); // hanging
    sup.close();
    await flush();
    expect(done.state).toBe('rejected');
    expect(done.error).toBeInstanceOf(AbortError);
    expect(p.sessions[0]!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close() right after a switch closes the old connection at once (no linger timer left)', async () => {
    const p = new ScriptedProvider('p');
    const { sup, listener } = supervise([p]);
    await flush();
    await sup.handover({ reason: 'reconfigure', settings: KEYWORDS });
    expect(listener.handovers).toHaveLength(1);
    expect(p.sessions[0]!.aborted).toBe(false);
    sup.close();
    expect(p.sessions.map((s) => s.aborted)).toEqual([true, true]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('close(error) rejects a pending handover with the stream\'s own error', async () => {
    const p = new ScriptedProvider('p');
    const { sup } = await midUtterance([p]);
    const done = await reconfigure(sup);
    const failure = new ConnectionError('CONNECTION_LOST', 'gave up');
    sup.close(failure);
    await flush();
    expect(done).toEqual({ state: 'rejected', error: failure });
    expect(p.sessions.every((s) => s.aborted)).toBe(true);
  });
});
