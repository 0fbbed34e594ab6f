/**
 * The server's audio timeline, which differs from the stream's in two ways:
 * the server transcribes fixed overlapping chunks (reply k covers chunk k),
 * and the session may insert silence (padding) that the stream never wrote.
 *
 * All times are ms of audio; "server time" counts every sample sent,
 * "stream time" only the stream's own audio (ProviderResult times).
 * @module
 * @internal
 */

/** Chunk k covers `[k × step, k × step + chunk)` of server time, step = chunk − overlap. */
export class ChunkWindows {
  readonly stepMs: number;

  constructor(
    readonly chunkMs: number,
    readonly overlapMs: number,
  ) {
    this.stepMs = chunkMs - overlapMs;
  }

  /** Start of chunk `k`, server ms. */
  start(k: number): number {
    return k * this.stepMs;
  }

  /** End of chunk `k`, server ms. */
  end(k: number): number {
    return k * this.stepMs + this.chunkMs;
  }

  /** Chunks the server has transcribed (or is transcribing) once it has received `ms` of audio. */
  countFor(ms: number): number {
    return ms + 1e-6 < this.chunkMs ? 0 : Math.floor((ms - this.chunkMs + 1e-6) / this.stepMs) + 1;
  }

  /** Chunks that start before `ms` (the replies that can contain audio before `ms`). */
  startingBefore(ms: number): number {
    return ms <= 1e-6 ? 0 : Math.ceil(ms / this.stepMs - 1e-9);
  }

  /** Server audio needed so that every chunk starting before `ms` is complete. */
  coverEnd(ms: number): number {
    const n = this.startingBefore(ms);
    return n === 0 ? 0 : this.end(n - 1);
  }
}

/** Pads remembered at most; older ones are folded into the offset (the server is far behind if this is reached). */
const MAX_PADS = 256;

interface Pad {
  /** Stream time where the silence was inserted. */
  stream: number;
  /** Server time where it starts. */
  server: number;
  length: number;
}

/** Maps server time to stream time and back across inserted silence. */
export class PaddedTimeline {
  private pads: Pad[] = [];
  /** Total length of pads forgotten by {@link prune} (all before any time still asked about). */
  private prunedMs = 0;
  private totalMs = 0;

  /** Silence inserted so far, ms. */
  get paddingMs(): number {
    return this.totalMs;
  }

  /** Record `length` ms of silence sent at stream time `stream` (server time `server`). */
  addPad(stream: number, server: number, length: number): void {
    if (length <= 0) return;
    this.pads.push({ stream, server, length });
    this.totalMs += length;
    if (this.pads.length > MAX_PADS) this.prunedMs += this.pads.shift()!.length;
  }

  /** Stream time of a server time; a time inside a pad maps to where the pad was inserted. */
  toStream(server: number): number {
    let offset = this.prunedMs;
    for (const p of this.pads) {
      if (server < p.server) break;
      if (server < p.server + p.length) return p.stream;
      offset += p.length;
    }
    return server - offset;
  }

  /** Server time of a stream time (audio at a pad's insertion point is taken as before the pad). */
  toServer(stream: number): number {
    let offset = this.prunedMs;
    for (const p of this.pads) {
      if (p.stream >= stream) break;
      offset += p.length;
    }
    return stream + offset;
  }

  /** Forget pads that end before server time `server` (no later question concerns them). */
  prune(server: number): void {
    while (this.pads.length > 0 && this.pads[0]!.server + this.pads[0]!.length <= server) {
      this.prunedMs += this.pads.shift()!.length;
    }
  }
}
