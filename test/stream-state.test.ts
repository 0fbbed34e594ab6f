/**
 * The stream's state machine as a user sees it: `state` events `{ from, to, reason? }` for every
 * change, on the emitter and through async iteration; and a connection's bytes in flight.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RtzrProvider, StreamingRecognizer, type RecognitionEvent, type StateEvent } from '../src/index.js';
import { ScriptCursor, startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { Link } from '../src/stream/link.js';
import { playCall, script, writeCall } from './helpers/sample-call.js';
import type { ProviderSession, ProviderCapabilities, Provider } from '../src/index.js';

let emulator: RtzrEmulator | undefined;
let recognizer: StreamingRecognizer | undefined;
afterEach(async () => {
  await recognizer?.close();
  await emulator?.close();
  recognizer = emulator = undefined;
});

async function setup(options: Partial<ConstructorParameters<typeof StreamingRecognizer>[0]> = {}) {
  emulator = await startRtzrEmulator({ script: new ScriptCursor(script) }); // one call, across reconnects
  recognizer = new StreamingRecognizer({
    providers: [new RtzrProvider({ apiBase: emulator.apiBase, ...emulator.credentials })],
    reconnect: { minDelayMs: 10, maxDelayMs: 50 },
    ...options,
  });
  return { emulator, recognizer };
}

const MULAW = { encoding: 'mulaw', sampleRate: 8000 } as const;
const path = (states: StateEvent[]) => states.map((s) => `${s.from}>${s.to}${s.reason ? ` ${s.reason.code}` : ''}`);

describe('state events', () => {
  it('a call: connecting > open > ending > closed, and stream.state follows', async () => {
    const { recognizer } = await setup();
    const stream = recognizer.stream({ audio: MULAW });
    const states: StateEvent[] = [];
    const observed: string[] = [];
    stream.on('state', (e) => {
      observed.push(stream.state); // already changed when the event fires
      states.push(e);
    });
    expect(stream.state).toBe('connecting');
    await writeCall(stream);
    await stream.end();
    expect(path(states)).toEqual(['connecting>open', 'open>ending', 'ending>closed']);
    expect(observed).toEqual(states.map((e) => e.to));
  });

  it('a dropped connection: open > connecting (with the reason) > open, and the call goes on', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.dropAfterAudioMs(4400);
    const stream = recognizer.stream({ audio: MULAW });
    const states: StateEvent[] = [];
    stream.on('state', (e) => states.push(e));
    await playCall(stream, 8);
    const summary = await stream.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(path(states)).toEqual(['connecting>open', 'open>connecting CONNECTION_LOST', 'connecting>open', 'open>ending', 'ending>closed']);
  });

  it('giving up: > failed with the error, then error and close', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.rejectConnections(401, 2); // credentials rejected even after a token refresh: permanent
    const stream = recognizer.stream({ audio: MULAW });
    const order: string[] = [];
    stream.on('state', (e) => order.push(`state ${e.to} ${e.reason?.code}`));
    stream.on('error', (e) => order.push(`error ${e.code}`));
    await new Promise((r) => stream.once('close', () => r(order.push('close'))));
    expect(order).toEqual(['state failed AUTH_FAILED', 'error AUTH_FAILED', 'close']);
  });

  it('abort(): > closed with an ABORTED reason', async () => {
    const { recognizer } = await setup();
    const stream = recognizer.stream({ audio: MULAW });
    await new Promise((r) => stream.once('open', r));
    const states: StateEvent[] = [];
    stream.on('state', (e) => states.push(e));
    stream.abort('caller hung up');
    expect(path(states)).toEqual(['open>closed ABORTED']);
    expect(states[0]!.reason?.message).toBe('caller hung up');
  });

  it('async iteration yields the state changes in order with the other events', async () => {
    const { emulator, recognizer } = await setup();
    emulator.faults.dropAfterAudioMs(4400);
    const stream = recognizer.stream({ audio: MULAW });
    const seen: RecognitionEvent[] = [];
    const consumer = (async () => {
      for await (const ev of stream) seen.push(ev);
    })();
    await playCall(stream, 8);
    await stream.end();
    await consumer;
    const states = seen.filter((e): e is Extract<RecognitionEvent, { type: 'state' }> => e.type === 'state');
    expect(states.map((s) => `${s.from}>${s.to}`)).toEqual(['connecting>open', 'open>connecting', 'connecting>open', 'open>ending', 'ending>closed']);
    const reconnectAt = seen.findIndex((e) => e.type === 'reconnect');
    const lostAt = seen.findIndex((e) => e.type === 'state' && e.to === 'connecting');
    expect(lostAt).toBeGreaterThanOrEqual(0);
    expect(reconnectAt).toBeGreaterThan(lostAt);
    expect(seen.at(-1)?.type).toBe('close');
  });
});

describe('Link: bytes in flight', () => {
  it('counts frames until the session has sent them, and forgets them when retired', () => {
    const caps: ProviderCapabilities = {
      streaming: true,
      interimResults: true,
      wordTimings: false,
      serverEndpointing: true,
      encodings: ['mulaw'],
      sampleRates: { min: 8000, max: 8000 },
      preferredSampleRate: 8000,
    };
    const provider: Provider = { id: 'p', capabilities: caps, chunkMs: 20, connect: () => Promise.reject(new Error('unused')) };
    const held: (() => void)[] = [];
    const session: ProviderSession = {
      costs: { tokenMs: 0, tokenCached: true, connectMs: 0, prewarmed: false },
      bufferedAmount: 0,
      send: (_audio, onSent) => onSent && held.push(onSent), // a socket that does not drain
      finalize: () => undefined,
      end: () => Promise.resolve('closed'),
      abort: () => undefined,
    };
    const link = new Link(provider, 0, { encoding: 'mulaw', sampleRate: 8000, channels: 1 }, { language: 'ko-KR', interimResults: true });
    link.session = session;
    let drained = 0;
    link.sendInput(new Uint8Array(480), () => drained++); // three 20 ms frames
    expect(link.pendingWireBytes).toBe(480);
    held.shift()!();
    expect(link.pendingWireBytes).toBe(320);
    expect(drained).toBe(1);
    link.abort(); // the connection failed with two frames never sent
    expect(link.pendingWireBytes).toBe(0);
    for (const cb of held.splice(0)) cb(); // a late callback of the dead session
    expect(link.pendingWireBytes).toBe(0);
    expect(drained).toBe(1);
    link.sendInput(new Uint8Array(160), () => drained++); // nothing goes to a retired link
    expect(held).toEqual([]);
  });
});
