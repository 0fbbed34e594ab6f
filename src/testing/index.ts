/**
 * `streaming-stt/testing`: local servers that speak each provider's wire
 * protocol on 127.0.0.1 (random port), for offline development and CI.
 * @packageDocumentation
 */
export * from './rtzr/index.js';
export * from './faster-whisper/index.js';
export * from './whisperlive/index.js';
