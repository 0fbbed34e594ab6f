/**
 * Google Speech-to-Text streaming (gRPC `StreamingRecognize`, v1 and v2) emulator for offline
 * development and tests.
 * @module
 */
export { startGoogleStreamingEmulator } from './emulator.js';
export type {
  GoogleGrpcStatusName,
  GoogleStreamingEmulator,
  GoogleStreamingEmulatorCounters,
  GoogleStreamingEmulatorOptions,
  GoogleStreamingFaults,
  GoogleStreamingLatency,
  GoogleStreamingRequestLogEntry,
  GoogleStreamingStreamLogEntry,
} from './types.js';
