/**
 * The provider contract suite (streaming-stt/testing describeProviderContract), run against every
 * built-in provider with its emulator.
 */
import { describe, it } from 'vitest';
import { FasterWhisperProvider, GoogleProvider, RtzrProvider, WhisperLiveProvider } from '../src/index.js';
import {
  describeProviderContract,
  startFasterWhisperEmulator,
  startGoogleEmulator,
  startRtzrEmulator,
  startWhisperLiveEmulator,
} from '../src/testing/index.js';

const script = ['첫 번째 문장입니다', '두 번째 문장입니다'];
const api = { describe, it };

describeProviderContract(api, 'rtzr', async () => {
  const emu = await startRtzrEmulator({ script });
  return {
    provider: new RtzrProvider({
      apiBase: emu.apiBase,
      websocketUrl: emu.websocketUrl,
      clientId: emu.credentials.clientId,
      clientSecret: emu.credentials.clientSecret,
    }),
    stall: () => emu.faults.stall(true),
    drop: () => emu.faults.dropAll(),
    openConnections: () => emu.counters.openConnections,
    audioBytes: () => emu.counters.audioBytes,
    close: () => emu.close(),
  };
});

describeProviderContract(api, 'google (utterance mode)', async () => {
  const emu = await startGoogleEmulator({ script });
  return {
    provider: new GoogleProvider({ endpoint: emu.endpoint, apiKey: emu.apiKey, retries: 1 }),
    stall: () => emu.faults.hangRecognize(1000),
    drop: () => emu.faults.dropRecognize(1000),
    openConnections: () => emu.counters.inFlight,
    audioBytes: () => emu.counters.audioBytes,
    close: () => emu.close(),
  };
});

describeProviderContract(api, 'faster-whisper', async () => {
  const emu = await startFasterWhisperEmulator({ script });
  return {
    provider: new FasterWhisperProvider({ url: emu.url, chunkDurationMs: emu.chunkDurationMs, overlapDurationMs: emu.overlapDurationMs }),
    stall: () => emu.faults.stall(true),
    drop: () => emu.faults.dropAll(),
    openConnections: () => emu.counters.openConnections,
    audioBytes: () => emu.counters.audioBytes,
    close: () => emu.close(),
  };
});

describeProviderContract(api, 'whisperlive', async () => {
  const emu = await startWhisperLiveEmulator({ script });
  return {
    provider: new WhisperLiveProvider({ url: emu.url, endSettleMs: 200 }),
    stall: () => emu.faults.stall(true),
    drop: () => emu.faults.dropAll(),
    openConnections: () => emu.counters.openConnections,
    audioBytes: () => emu.counters.audioBytes,
    close: () => emu.close(),
  };
});

describeProviderContract(api, 'whisperlive (the server\'s pass loop, 300 ms passes)', async () => {
  const emu = await startWhisperLiveEmulator({ script, modelPassMs: 300 });
  return {
    provider: new WhisperLiveProvider({ url: emu.url, endSettleMs: 200 }),
    stall: () => emu.faults.stall(true),
    drop: () => emu.faults.dropAll(),
    openConnections: () => emu.counters.openConnections,
    audioBytes: () => emu.counters.audioBytes,
    close: () => emu.close(),
  };
});
