/**
 * Speex's resampler (SpeexDSP, compiled to WASM by `@echogarden/speex-resampler-wasm`, BSD-3,
 * a devDependency) behind the same frame-by-frame shape as our `Resampler`, for bench §5.
 * Each frame is copied into WASM memory and the output copied out, as an integration would.
 * Only the bench uses it.
 */

/** The Emscripten module's surface we use. */
interface SpeexModule {
  HEAP16: Int16Array;
  HEAPF32: Float32Array;
  HEAPU32: Uint32Array;
  _malloc(bytes: number): number;
  _free(ptr: number): void;
  _speex_resampler_init(channels: number, inRate: number, outRate: number, quality: number, errPtr: number): number;
  _speex_resampler_destroy(state: number): void;
  _speex_resampler_process_int(state: number, channel: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
  _speex_resampler_process_float(state: number, channel: number, inPtr: number, inLenPtr: number, outPtr: number, outLenPtr: number): number;
}

type Factory = () => Promise<SpeexModule>;

const loaded = new Map<boolean, Promise<SpeexModule>>();

/**
 * Load the WASM module (the SIMD build or the portable one) once. Asynchronous: Emscripten's
 * factory returns a promise, which is why this cannot sit behind a synchronous `new Resampler()`.
 */
export function loadSpeex(simd: boolean): Promise<SpeexModule> {
  let p = loaded.get(simd);
  if (!p) {
    const spec = simd ? '@echogarden/speex-resampler-wasm/simd' : '@echogarden/speex-resampler-wasm';
    p = (import(spec) as Promise<{ default: Factory }>).then((m) => m.default());
    loaded.set(simd, p);
  }
  return p;
}

/** One Speex resampler state: mono, `quality` 0–10, fed 20 ms frames. */
export class SpeexResampler {
  private readonly state: number;
  private readonly inPtr: number;
  private readonly outPtr: number;
  private readonly lenPtr: number;
  private readonly maxIn: number;
  private readonly maxOut: number;

  constructor(
    private readonly mod: SpeexModule,
    readonly fromRate: number,
    readonly toRate: number,
    quality: number,
    maxFrame = 4096,
  ) {
    const err = mod._malloc(4);
    this.state = mod._speex_resampler_init(1, fromRate, toRate, quality, err);
    const code = mod.HEAPU32[err >> 2]!;
    mod._free(err);
    if (!this.state || code !== 0) throw new Error(`speex_resampler_init failed (${code})`);
    this.maxIn = maxFrame;
    this.maxOut = Math.ceil((maxFrame * toRate) / fromRate) + 64;
    this.inPtr = mod._malloc(this.maxIn * 4);
    this.outPtr = mod._malloc(this.maxOut * 4);
    this.lenPtr = mod._malloc(8);
  }

  /** Resample one Int16 frame; returns a fresh array. */
  process(frame: Int16Array): Int16Array {
    const m = this.mod;
    m.HEAP16.set(frame, this.inPtr >> 1);
    m.HEAPU32[this.lenPtr >> 2] = frame.length;
    m.HEAPU32[(this.lenPtr >> 2) + 1] = this.maxOut;
    m._speex_resampler_process_int(this.state, 0, this.inPtr, this.lenPtr, this.outPtr, this.lenPtr + 4);
    const n = m.HEAPU32[(this.lenPtr >> 2) + 1]!;
    return m.HEAP16.slice(this.outPtr >> 1, (this.outPtr >> 1) + n);
  }

  /** Resample one float frame; returns a fresh array. */
  processFloat(frame: Float32Array): Float32Array {
    const m = this.mod;
    m.HEAPF32.set(frame, this.inPtr >> 2);
    m.HEAPU32[this.lenPtr >> 2] = frame.length;
    m.HEAPU32[(this.lenPtr >> 2) + 1] = this.maxOut;
    m._speex_resampler_process_float(this.state, 0, this.inPtr, this.lenPtr, this.outPtr, this.lenPtr + 4);
    const n = m.HEAPU32[(this.lenPtr >> 2) + 1]!;
    return m.HEAPF32.slice(this.outPtr >> 2, (this.outPtr >> 2) + n);
  }

  destroy(): void {
    this.mod._speex_resampler_destroy(this.state);
    this.mod._free(this.inPtr);
    this.mod._free(this.outPtr);
    this.mod._free(this.lenPtr);
  }
}
