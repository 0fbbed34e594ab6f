/**
 * `streaming-stt/testing`: local servers that speak each provider's wire
 * protocol on 127.0.0.1 (random port), and a Twilio Media Streams call
 * simulator, for offline development and CI.
 * @packageDocumentation
 * @module streaming-stt/testing
 */
export * from './rtzr/index.js';
export * from './google/index.js';
export * from './google-streaming/index.js';
export * from './twilio/index.js';
export * from './faster-whisper/index.js';
export * from './whisperlive/index.js';
export { ScriptCursor } from './script-cursor.js';
export { describeProviderContract } from './contract/provider-contract.js';
export type { ContractServer, ContractTestApi, ProviderContractOptions } from './contract/provider-contract.js';
export type { Script } from './script-cursor.js';
