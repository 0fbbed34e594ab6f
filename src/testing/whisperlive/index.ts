/**
 * WhisperLive emulator for offline development and tests.
 * @module
 */
export { startWhisperLiveEmulator } from './emulator.js';
export type {
  WhisperLiveConnectionLogEntry,
  WhisperLiveEmulator,
  WhisperLiveEmulatorCounters,
  WhisperLiveEmulatorOptions,
  WhisperLiveFaults,
  WhisperLiveLatency,
  WhisperLiveRejectStatus,
  WhisperLiveScriptInfo,
} from './types.js';
