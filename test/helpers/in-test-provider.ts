/** Pieces for the small providers tests write against the public `Provider` interface. */
import type { Logger, ProviderCapabilities } from '../../src/index.js';

/** A streaming provider with interim results that takes LINEAR16 at 8–48 kHz. */
export const STREAMING_CAPABILITIES: ProviderCapabilities = {
  streaming: true,
  interimResults: true,
  wordTimings: false,
  serverEndpointing: true,
  encodings: ['linear16'],
  sampleRates: { min: 8000, max: 48000 },
  preferredSampleRate: 16000,
};

/** A logger that drops everything. */
export const quietLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
