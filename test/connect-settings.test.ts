/**
 * A stream's connection settings: what `recognizer.stream({ keywords, providerOptions })` and
 * `stream.reconfigure()` accept, how a reconfigure changes them, and what reaches `connect()`.
 */
import { describe, expect, it } from 'vitest';
import { ConfigurationError, StreamingRecognizer, type Provider, type SessionOptions } from '../src/index.js';
import { initialSettings, reconfigured, sameSettings, sessionOptionsFor } from '../src/stream/connect-settings.js';
import { STREAMING_CAPABILITIES } from './helpers/in-test-provider.js';

/** A provider that takes per-stream options and rejects a decoder option `bad`. */
const taking: Provider = {
  id: 'mine',
  capabilities: STREAMING_CAPABILITIES,
  connect: () => Promise.reject(new Error('unused')),
  checkSessionOptions(o: SessionOptions) {
    if (o.decoder && 'bad' in o.decoder) throw new ConfigurationError('mine: bad is not an option');
  },
};
/** A provider that takes none. */
const plain: Provider = { id: 'plain', capabilities: STREAMING_CAPABILITIES, connect: () => Promise.reject(new Error('unused')) };
const base = { language: 'ko-KR', interimResults: true };

describe('connection settings', () => {
  it('a reconfigure keeps what it leaves out, replaces keywords ([] clears them) and merges provider options key by key', () => {
    const s0 = initialSettings(base, { keywords: ['상담원'], providerOptions: { mine: { a: 1, b: 2 } } }, [taking, plain]);
    const s1 = reconfigured(s0, { providerOptions: { mine: { b: undefined, c: 3 } } }, [taking, plain]);
    expect(s1).toEqual({ ...base, keywords: ['상담원'], providerOptions: { mine: { a: 1, c: 3 } } });
    const s2 = reconfigured(s1, { keywords: [], language: 'en-US', interimResults: false }, [taking, plain]);
    expect(s2).toEqual({ language: 'en-US', interimResults: false, providerOptions: { mine: { a: 1, c: 3 } } });
    expect(reconfigured(s2, { providerOptions: { mine: { a: undefined, c: undefined } } }, [taking])).toEqual({ language: 'en-US', interimResults: false });
    expect(sameSettings(s0, reconfigured(s0, {}, [taking]))).toBe(true);
    expect(sameSettings(s0, s1)).toBe(false);
  });

  it('what reaches connect(): keywords and the provider\'s own decoder options; nothing for a provider that takes none', () => {
    const s = initialSettings(base, { keywords: [['예약', 3]], providerOptions: { mine: { a: 1 } } }, [taking, plain]);
    expect(sessionOptionsFor(taking, s)).toEqual({ keywords: [['예약', 3]], decoder: { a: 1 } });
    expect(sessionOptionsFor(plain, s)).toBeUndefined();
    expect(sessionOptionsFor(taking, { ...base })).toBeUndefined();
  });

  it('the caller cannot change settings after they were checked (copies)', () => {
    const keywords: [string, number][] = [['예약', 3]];
    const s = initialSettings(base, { keywords }, [taking]);
    keywords[0]![1] = 99;
    expect(s.keywords).toEqual([['예약', 3]]);
  });

  it('rejects what cannot be a setting, with ConfigurationError naming it', () => {
    const bad: [unknown, RegExp][] = [
      [{ providerOptions: { nobody: {} } }, /no provider "nobody"/],
      [{ providerOptions: { plain: { a: 1 } } }, /"plain" takes no per-stream options/],
      [{ providerOptions: { mine: { bad: 1 } } }, /bad is not an option/],
      [{ providerOptions: { mine: 'x' } }, /providerOptions.mine must be an object/],
      [{ providerOptions: [] }, /providerOptions must be an object/],
      [{ keywords: 'hello' }, /keywords must be an array/],
      [{ interimResults: 'yes' }, /interimResults must be a boolean/],
      [{ language: 7 }, /language/],
      [{ keyword: [] }, /unknown option "keyword"/],
    ];
    for (const [changes, message] of bad) {
      expect(() => reconfigured(initialSettings(base, {}, [taking, plain]), changes as never, [taking, plain])).toThrow(message);
    }
    expect(() => reconfigured(initialSettings(base, {}, [taking]), null as never, [taking])).toThrow(ConfigurationError);
  });

  it('recognizer.stream() checks keywords and providerOptions before it connects', async () => {
    const recognizer = new StreamingRecognizer({ providers: [taking, plain] });
    try {
      expect(() => recognizer.stream({ providerOptions: { plain: { a: 1 } } })).toThrow(ConfigurationError);
      expect(() => recognizer.stream({ providerOptions: { mine: { bad: true } } })).toThrow(/bad is not an option/);
      expect(() => recognizer.stream({ keywords: 'hello' as never })).toThrow(/keywords must be an array/);
    } finally {
      await recognizer.close();
    }
  });
});
