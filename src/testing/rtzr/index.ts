/**
 * RTZR (VITO) streaming STT emulator for offline development and tests.
 * @module
 */
export { startRtzrEmulator } from './emulator.js';
export type {
  RtzrAuthFailureStatus,
  RtzrConnectionLogEntry,
  RtzrCredentials,
  RtzrEmulator,
  RtzrEmulatorCounters,
  RtzrEmulatorOptions,
  RtzrFaults,
  RtzrLatency,
  RtzrRejectOptions,
  RtzrRejectStatus,
  RtzrScriptInfo,
} from './types.js';
