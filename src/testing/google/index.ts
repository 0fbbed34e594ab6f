/**
 * Google Speech-to-Text (REST v1) emulator for offline development and tests.
 * @module
 */
export { startGoogleEmulator } from './emulator.js';
export type {
  GoogleEmulator,
  GoogleEmulatorCounters,
  GoogleEmulatorOptions,
  GoogleFaults,
  GoogleFaultStatus,
  GoogleScriptInfo,
} from './types.js';
