/**
 * `streaming-stt/testing`: local servers that speak each provider's wire
 * protocol on 127.0.0.1 (random port), and a Twilio Media Streams call
 * simulator, for offline development and CI.
 * @packageDocumentation
 */
export * from './rtzr/index.js';
export * from './twilio/index.js';
