/**
 * `npx tsx examples/twilio/server.ts`: settings from the environment, the real RTZR service when
 * RTZR_CLIENT_ID/RTZR_CLIENT_SECRET are set (else the built-in emulator), graceful shutdown.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { ConfigurationError, RtzrProvider, isSttError, type Provider } from 'streaming-stt';
import { startRtzrEmulator, type RtzrEmulator } from 'streaming-stt/testing';
import { createConsoleLogger, type LogLevel } from './log.js';
import type { startTwilioServer } from './server.js';
import { WEBHOOK_PATH } from './webhook.js';

/** The example's settings, from the environment. */
export interface ExampleConfig {
  port: number;
  host: string;
  publicUrl: string | undefined;
  authToken: string | undefined;
  bargeIn: boolean;
  logLevel: LogLevel;
  logFormat: 'pretty' | 'json';
  rtzr: boolean;
}

function flag(name: string, value: string | undefined): boolean {
  if (value === undefined || value === '') return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigurationError(`${name} must be 1/true/yes/on or 0/false/no/off, got ${JSON.stringify(value)}`);
}

/** @throws ConfigurationError for an invalid value. */
export function readConfig(env: NodeJS.ProcessEnv): ExampleConfig {
  const port = Number(env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigurationError(`PORT must be an integer from 0 to 65535, got ${JSON.stringify(env.PORT)}`);
  }
  const level = (env.LOG_LEVEL ?? 'info').toLowerCase();
  if (!['debug', 'info', 'warn', 'error'].includes(level)) {
    throw new ConfigurationError(`LOG_LEVEL must be debug, info, warn or error, got ${JSON.stringify(env.LOG_LEVEL)}`);
  }
  const format = (env.LOG_FORMAT ?? 'pretty').toLowerCase();
  if (format !== 'pretty' && format !== 'json') {
    throw new ConfigurationError(`LOG_FORMAT must be pretty or json, got ${JSON.stringify(env.LOG_FORMAT)}`);
  }
  return {
    port,
    host: env.HOST || '0.0.0.0',
    publicUrl: env.PUBLIC_URL || undefined,
    authToken: env.TWILIO_AUTH_TOKEN || undefined,
    bargeIn: flag('BARGE_IN', env.BARGE_IN),
    logLevel: level as LogLevel,
    logFormat: format,
    rtzr: Boolean(env.RTZR_CLIENT_ID && env.RTZR_CLIENT_SECRET),
  };
}

/** The sample call's ground truth: what the emulator "recognises" (it is scripted). */
async function sampleScript(): Promise<string[]> {
  const path = fileURLToPath(new URL('../audio/call-ko.json', import.meta.url));
  const truth = JSON.parse(await readFile(path, 'utf8')) as { utterances: { text: string }[] };
  return truth.utterances.map((u) => u.text);
}

export async function main(start: typeof startTwilioServer): Promise<void> {
  let config: ExampleConfig;
  try {
    config = readConfig(process.env);
  } catch (err) {
    console.error(`configuration error: ${(err as Error).message}`);
    process.exitCode = 1;
    return;
  }
  const logger = createConsoleLogger({ level: config.logLevel, format: config.logFormat });

  let emulator: RtzrEmulator | undefined;
  let providers: Provider[];
  if (config.rtzr) {
    providers = [new RtzrProvider()];
    logger.info('recognizer: RTZR streaming STT (RTZR_CLIENT_ID is set)');
  } else {
    emulator = await startRtzrEmulator({
      script: await sampleScript(),
      latency: { authMs: 120, connectMs: 80, processingMs: 150 },
    });
    providers = [
      new RtzrProvider({
        apiBase: emulator.apiBase,
        clientId: emulator.credentials.clientId,
        clientSecret: emulator.credentials.clientSecret,
      }),
    ];
    logger.warn(
      `recognizer: RTZR_CLIENT_ID/RTZR_CLIENT_SECRET not set, so using the built-in RTZR EMULATOR at ${emulator.apiBase}. ` +
        'It finds utterances by energy and answers with the sample call\'s scripted texts, whatever is said.',
    );
  }

  let server: Awaited<ReturnType<typeof start>>;
  try {
    server = await start({
      providers,
      port: config.port,
      host: config.host,
      publicUrl: config.publicUrl,
      authToken: config.authToken,
      bargeIn: config.bargeIn,
      logger,
    });
  } catch (err) {
    logger.error(`could not start: ${isSttError(err) ? err.message : (err as Error).message}`);
    await emulator?.close();
    process.exitCode = 1;
    return;
  }

  logger.info(`listening on http://${config.host}:${server.port}`, { port: server.port });
  if (config.publicUrl) {
    logger.info(`Twilio voice webhook: POST ${config.publicUrl.replace(/\/$/, '')}${WEBHOOK_PATH}`);
    logger.info(`media stream: ${server.publicStreamUrl}`);
  } else {
    logger.info(`Twilio voice webhook: POST https://<your public host>${WEBHOOK_PATH} (set PUBLIC_URL to your tunnel's URL)`);
    logger.info(`local media stream: ${server.mediaStreamUrl}`);
  }
  if (config.authToken) logger.info('X-Twilio-Signature validation: on (webhook and WebSocket handshake)');
  else logger.warn('X-Twilio-Signature validation: OFF (set TWILIO_AUTH_TOKEN and PUBLIC_URL in production)');
  logger.info(`barge-in (clear on speech start): ${config.bargeIn ? 'on' : 'off'}`);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting now`);
      process.exit(1);
    }
    stopping = true;
    logger.info(`${signal}: shutting down (open calls are ended first; ${signal} again to force)`);
    void server
      .close()
      .then(() => emulator?.close())
      .then(() => {
        logger.info('bye');
        process.exitCode = 0;
      });
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
