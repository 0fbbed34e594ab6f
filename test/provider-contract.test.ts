/**
 * The provider contract suite (streaming-stt/testing describeProviderContract), run against every
 * built-in provider with its emulator.
 */
import { describe, it } from 'vitest';
import { FasterWhisperProvider, GoogleProvider, RtzrProvider, WhisperLiveProvider, type Provider } from '../src/index.js';
import {
  describeProviderContract,
  type ContractServer,
  startFasterWhisperEmulator,
  startGoogleEmulator,
  startRtzrEmulator,
  startWhisperLiveEmulator,
} from '../src/testing/index.js';

const script = ['첫 번째 문장입니다', '두 번째 문장입니다'];
const api = { describe, it };

/** What the WebSocket emulators share: stall and drop faults, live counters. */
interface WsEmulator {
  faults: { stall(on?: boolean): void; dropAll(): void };
  counters: { openConnections: number; audioBytes: number };
  close(): Promise<void>;
}

function wsServer(emu: WsEmulator, provider: Provider): ContractServer {
  return {
    provider,
    stall: () => emu.faults.stall(true),
    drop: () => emu.faults.dropAll(),
    openConnections: () => emu.counters.openConnections,
    audioBytes: () => emu.counters.audioBytes,
    close: () => emu.close(),
  };
}

describeProviderContract(api, 'rtzr', async () => {
  const emu = await startRtzrEmulator({ script });
  return wsServer(
    emu,
    new RtzrProvider({
      apiBase: emu.apiBase,
      websocketUrl: emu.websocketUrl,
      clientId: emu.credentials.clientId,
      clientSecret: emu.credentials.clientSecret,
    }),
  );
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
  return wsServer(
    emu,
    new FasterWhisperProvider({ url: emu.url, chunkDurationMs: emu.chunkDurationMs, overlapDurationMs: emu.overlapDurationMs }),
  );
});

describeProviderContract(api, 'whisperlive', async () => {
  const emu = await startWhisperLiveEmulator({ script });
  return wsServer(
    emu,
    new WhisperLiveProvider({ url: emu.url, endSettleMs: 200 }),
  );
});

describeProviderContract(api, 'whisperlive (the server\'s pass loop, 300 ms passes)', async () => {
  const emu = await startWhisperLiveEmulator({ script, modelPassMs: 300 });
  return wsServer(
    emu,
    new WhisperLiveProvider({ url: emu.url, endSettleMs: 200 }),
  );
});
