/**
 * Faster-Whisper chunk-server emulator for offline development and tests.
 * @module
 */
export { startFasterWhisperEmulator } from './emulator.js';
export type {
  FasterWhisperConnectionLogEntry,
  FasterWhisperEmulator,
  FasterWhisperEmulatorCounters,
  FasterWhisperEmulatorOptions,
  FasterWhisperFaults,
  FasterWhisperLatency,
  FasterWhisperRejectStatus,
  FasterWhisperScriptInfo,
} from './types.js';
