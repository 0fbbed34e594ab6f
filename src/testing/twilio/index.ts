/**
 * Twilio Media Streams call simulator.
 * @module
 */
export { simulateTwilioCall } from './simulate.js';
export { twilioSignature } from './signature.js';
export type {
  SimulateTwilioCallOptions,
  TwilioCallEvent,
  TwilioCallResult,
  TwilioMarkRecord,
  TwilioReceived,
  TwilioSignatureOptions,
} from './types.js';
