import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RtzrProvider, StreamingRecognizer, type Transcript, type UtteranceMetrics } from '../src/index.js';
import { startRtzrEmulator, type RtzrEmulator } from '../src/testing/index.js';
import { mulaw8k, linear16k, script, truth, writeCall, frames } from './helpers/sample-call.js';

let emulator: RtzrEmulator;
let recognizer: StreamingRecognizer;
let provider: RtzrProvider;

function makeProvider(extra: ConstructorParameters<typeof RtzrProvider>[0] = {}): RtzrProvider {
  return new RtzrProvider({
    apiBase: emulator.apiBase,
    websocketUrl: emulator.websocketUrl,
    clientId: emulator.credentials.clientId,
    clientSecret: emulator.credentials.clientSecret,
    ...extra,
  });
}

beforeEach(async () => {
  emulator = await startRtzrEmulator({ script });
  provider = makeProvider();
  recognizer = new StreamingRecognizer({ providers: [provider] });
});

afterEach(async () => {
  await recognizer.close();
  await emulator.close();
});

describe('RTZR streaming through StreamingRecognizer', () => {
  it('turns the sample call into its 4 ground-truth finals, in order, with times within 300 ms', async () => {
    const started = performance.now();
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const events: { type: string; id: number; text?: string }[] = [];
    stream.on('partial', (t) => events.push({ type: 'partial', id: t.utteranceId, text: t.text }));
    stream.on('final', (t) => events.push({ type: 'final', id: t.utteranceId, text: t.text }));
    await writeCall(stream);
    const summary = await stream.end();
    const elapsed = performance.now() - started;

    expect(summary.error).toBeUndefined();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    summary.transcripts.forEach((t, i) => {
      expect(t.utteranceId).toBe(i);
      expect(t.provider).toBe('rtzr');
      expect(Math.abs(t.startMs - truth.utterances[i]!.startMs)).toBeLessThanOrEqual(300);
      expect(Math.abs(t.endMs - truth.utterances[i]!.endMs)).toBeLessThanOrEqual(300);
      // whole ms on this process's clock: never more than the time the call took
      expect(Number.isInteger(t.latencyMs)).toBe(true);
      expect(t.latencyMs!).toBeLessThanOrEqual(elapsed);
    });
    expect(summary.text).toBe(script.join(' '));
    expect(summary.providers).toEqual(['rtzr']);
    expect(Math.abs(summary.audioMs - truth.durationMs)).toBeLessThanOrEqual(20);

    // every utterance shows at least one partial, all partials of an utterance come before its final
    for (let i = 0; i < script.length; i++) {
      const finalAt = events.findIndex((e) => e.type === 'final' && e.id === i);
      const partials = events.map((e, k) => ({ ...e, k })).filter((e) => e.type === 'partial' && e.id === i);
      expect(partials.length).toBeGreaterThan(0);
      for (const p of partials) {
        expect(p.k).toBeLessThan(finalAt);
        expect(script[i]!.startsWith(p.text!)).toBe(true);
      }
    }
  });

  it('carries the whole call on one WebSocket and one token', async () => {
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(stream);
    await stream.end();
    expect(emulator.counters.connections).toBe(1);
    expect(emulator.counters.authRequests).toBe(1);
    expect(emulator.counters.finalsSent).toBe(4);
  });

  it('gives words with stream-absolute times inside each final', async () => {
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(stream);
    const summary = await stream.end();
    for (const t of summary.transcripts) {
      expect(t.words?.map((w) => w.text).join(' ')).toBe(t.text);
      for (const w of t.words!) {
        expect(w.startMs).toBeGreaterThanOrEqual(t.startMs - 1);
        expect(w.endMs).toBeLessThanOrEqual(t.endMs + 1);
      }
    }
  });

  it('accepts 16 kHz LINEAR16 input as well', async () => {
    const stream = recognizer.stream({ audio: { encoding: 'linear16', sampleRate: 16000 } });
    await writeCall(stream, linear16k.data, 640);
    const summary = await stream.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
  });

  it('sends LINEAR16 on the wire by default and MULAW with wireEncoding: passthrough', async () => {
    const s1 = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(s1);
    await s1.end();
    const r2 = new StreamingRecognizer({ providers: [makeProvider({ wireEncoding: 'passthrough' })] });
    const s2 = r2.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await writeCall(s2);
    const sum2 = await s2.end();
    await r2.close();
    const log = emulator.connectionsLog;
    expect(log[0]!.query.encoding).toBe('LINEAR16');
    expect(log[1]!.query.encoding).toBe('MULAW');
    expect(sum2.transcripts.map((t) => t.text)).toEqual(script);
  });

  it('emits metrics per final: first utterance pays token and socket, later ones reuse them', async () => {
    const metrics: UtteranceMetrics[] = [];
    const s1 = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    s1.on('metrics', (m) => metrics.push(m));
    await writeCall(s1);
    const sum1 = await s1.end();
    expect(metrics).toHaveLength(4);
    expect(metrics[0]).toMatchObject({ utteranceId: 0, provider: 'rtzr', tokenCached: false, connectionReused: false });
    for (const m of metrics.slice(1)) expect(m).toMatchObject({ tokenMs: 0, tokenCached: true, connectMs: 0, connectionReused: true });
    metrics.forEach((m, i) => {
      expect(m.finalLatencyMs).toBe(sum1.transcripts[i]!.latencyMs); // the final's own latency
      expect(m.firstPartialMs).toEqual(expect.any(Number)); // RTZR sends partials for every utterance
      expect(m.audioMs).toBe(sum1.transcripts[i]!.endMs - sum1.transcripts[i]!.startMs);
    });

    // the second call of the process: token from the cache
    const m2: UtteranceMetrics[] = [];
    const s2 = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    s2.on('metrics', (m) => m2.push(m));
    await writeCall(s2);
    await s2.end();
    expect(m2[0]).toMatchObject({ tokenMs: 0, tokenCached: true, connectionReused: false });
    expect(emulator.counters.authRequests).toBe(1);
  });

  it('async iteration yields the same finals and ends with close', async () => {
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const seen: Transcript[] = [];
    const consume = (async () => {
      let closed = false;
      for await (const ev of stream) {
        if (ev.type === 'final') seen.push(ev);
        if (ev.type === 'close') closed = true;
      }
      return closed;
    })();
    await writeCall(stream);
    await stream.end();
    expect(await consume).toBe(true);
    expect(seen.map((t) => t.text)).toEqual(script);
  });

  it('queues audio written before the socket is open, losing none of it', async () => {
    emulator.setLatency({ authMs: 150, connectMs: 150 });
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    expect(stream.state).toBe('connecting');
    for (const f of frames(mulaw8k.data, 160)) stream.write(f); // all of it, before open
    const summary = await stream.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(emulator.counters.audioBytes).toBe(mulaw8k.data.length * 2); // LINEAR16 on the wire
  });

  it('signals backpressure with false and then drain', async () => {
    emulator.setLatency({ connectMs: 100 });
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, highWaterMark: 1600 });
    let sawFalse = false;
    for (const f of frames(mulaw8k.data.subarray(0, 8000), 160)) if (!stream.write(f)) sawFalse = true;
    expect(sawFalse).toBe(true);
    await new Promise<void>((r) => stream.once('drain', r));
    await stream.end();
  });

  it('finalize() ends the utterance early and keeps the socket for the next one', async () => {
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    const finals: Transcript[] = [];
    stream.on('final', (t) => finals.push(t));
    // first utterance runs 800–2589 ms; cut it at 2000 ms
    const cut = 2000 * 8;
    for (const f of frames(mulaw8k.data.subarray(0, cut), 160)) stream.write(f);
    stream.finalize();
    await new Promise<void>((r) => stream.once('final', () => r()));
    expect(finals[0]!.text).toBe(script[0]);
    expect(finals[0]!.endMs).toBeLessThanOrEqual(2000 + 1);
    for (const f of frames(mulaw8k.data.subarray(cut), 160)) stream.write(f);
    const summary = await stream.end();
    expect(emulator.counters.connections).toBe(1);
    expect(summary.transcripts.length).toBeGreaterThanOrEqual(4);
  });

  it('end() delivers the last final before resolving, even with slow recognition', async () => {
    emulator.setLatency({ processingMs: 300 });
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    let lastFinalBeforeEnd = false;
    stream.on('final', (t) => {
      if (t.utteranceId === 3) lastFinalBeforeEnd = true;
    });
    // stop right after the last word: the emulator's EPD has not fired yet, EOS must flush it
    for (const f of frames(mulaw8k.data.subarray(0, 9200 * 8), 160)) stream.write(f);
    const summary = await stream.end();
    expect(lastFinalBeforeEnd).toBe(true);
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(stream.state).toBe('closed');
  });

  it('end() is bounded when the server never closes after EOS', async () => {
    emulator.faults.noCloseAfterEos(true);
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, endTimeoutMs: 300 });
    await writeCall(stream);
    const summary = await stream.end();
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
    expect(stream.state).toBe('closed');
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('abort() closes the socket at once and emits only close', async () => {
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await new Promise<void>((r) => stream.once('open', () => r()));
    const after: string[] = [];
    for (const ev of ['partial', 'final', 'error'] as const) stream.on(ev, () => after.push(ev));
    const closed = new Promise((r) => stream.once('close', r));
    for (const f of frames(mulaw8k.data.subarray(0, 16000), 160)) stream.write(f);
    stream.abort('caller hung up');
    const summary = (await closed) as { error?: { code: string } };
    expect(summary.error?.code).toBe('ABORTED');
    expect(stream.state).toBe('closed');
    expect(after).toEqual([]);
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
  });

  it('an AbortSignal aborts the stream', async () => {
    const ac = new AbortController();
    const stream = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 }, signal: ac.signal });
    const closed = new Promise<{ error?: { code: string } }>((r) => stream.once('close', r));
    ac.abort();
    expect((await closed).error?.code).toBe('ABORTED');
  });

  it('recognizer.close() aborts open streams and leaves no sockets', async () => {
    const s = recognizer.stream({ audio: { encoding: 'mulaw', sampleRate: 8000 } });
    await new Promise<void>((r) => s.once('open', () => r()));
    await recognizer.close();
    expect(s.state).toBe('closed');
    await expect.poll(() => emulator.counters.openConnections).toBe(0);
    expect(() => recognizer.stream()).toThrowError(expect.objectContaining({ code: 'INVALID_STATE' }) as Error);
  });

  it('recognize() transcribes a WAV file in one call', async () => {
    const { readFileSync } = await import('node:fs');
    const bytes = readFileSync(new URL('../examples/audio/call-ko-16k-linear16.wav', import.meta.url));
    const summary = await recognizer.recognize(bytes);
    expect(summary.transcripts.map((t) => t.text)).toEqual(script);
  });
});
