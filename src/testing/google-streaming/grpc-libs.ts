/**
 * Loads what the emulator serves with, only when an emulator is started (the
 * testing entry imports without them): `@grpc/grpc-js`, `@grpc/proto-loader`,
 * and the Speech-to-Text proto descriptors shipped in `@google-cloud/speech`
 * (`build/protos/protos.json`, generated from googleapis'
 * `google/cloud/speech/{v1,v2}/cloud_speech.proto`: the very definitions
 * Google's client encodes with).
 * @module
 * @internal
 */
import { ConfigurationError } from '../../errors/index.js';

/** The parts of `@grpc/grpc-js` the emulator uses. */
export interface GrpcServerLib {
  Server: new (options?: Record<string, unknown>) => GrpcServer;
  ServerCredentials: { createInsecure(): unknown };
  status: Record<string, number>;
}

/** A `@grpc/grpc-js` server (the parts used). */
export interface GrpcServer {
  addService(service: unknown, implementation: Record<string, (call: never) => void>): void;
  bindAsync(address: string, credentials: unknown, callback: (error: Error | null, port: number) => void): void;
  tryShutdown(callback: (error?: Error) => void): void;
  forceShutdown(): void;
}

/** The Speech services' definitions. */
export interface SpeechServices {
  grpc: GrpcServerLib;
  v1: unknown;
  v2: unknown;
}

const INSTALL = 'npm install --save-dev @google-cloud/speech @grpc/grpc-js @grpc/proto-loader';

async function load(specifier: string, attributes?: { with: { type: 'json' } }): Promise<unknown> {
  try {
    const mod = (await (attributes ? import(specifier, attributes) : import(specifier))) as { default?: unknown };
    return mod.default ?? mod;
  } catch (err) {
    throw new ConfigurationError(`startGoogleStreamingEmulator() needs the optional package behind ${specifier}: ${INSTALL}`, { cause: err });
  }
}

/** Load gRPC, proto-loader and the official Speech protos. */
export async function loadSpeechServices(): Promise<SpeechServices> {
  const grpc = (await load('@grpc/grpc-js')) as GrpcServerLib;
  const protoLoader = (await load('@grpc/proto-loader')) as { fromJSON(json: unknown, options: Record<string, unknown>): Record<string, unknown> };
  const json = await load('@google-cloud/speech/build/protos/protos.json', { with: { type: 'json' } });
  const defs = protoLoader.fromJSON(json, { keepCase: false, longs: Number, enums: String, defaults: false, oneofs: false });
  const v1 = defs['google.cloud.speech.v1.Speech'];
  const v2 = defs['google.cloud.speech.v2.Speech'];
  if (!v1 || !v2) throw new ConfigurationError('the installed @google-cloud/speech ships no v1/v2 Speech service definitions');
  return { grpc, v1, v2 };
}
