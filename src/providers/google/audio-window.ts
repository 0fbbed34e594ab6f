/**
 * Recent audio of a session by byte position, so an utterance can be cut out
 * from a little before its detected start (pre-roll) to its end. Bounded: the
 * owner trims what no utterance can need any more.
 * @module
 */

/** @internal */
export class AudioWindow {
  private chunks: { at: number; bytes: Uint8Array }[] = [];
  private _end = 0;

  get end(): number {
    return this._end;
  }

  append(bytes: Uint8Array): void {
    this.chunks.push({ at: this._end, bytes: bytes.slice() });
    this._end += bytes.byteLength;
  }

  /** Forget everything before `position`. */
  trim(position: number): void {
    let i = 0;
    while (i < this.chunks.length && this.chunks[i]!.at + this.chunks[i]!.bytes.byteLength <= position) i++;
    if (i > 0) this.chunks = this.chunks.slice(i);
  }

  /** Copy of the bytes in [from, to), clamped to what is kept. */
  slice(from: number, to: number): Uint8Array {
    const first = this.chunks[0]?.at ?? this._end;
    const a = Math.max(from, first);
    const b = Math.min(to, this._end);
    const out = new Uint8Array(Math.max(0, b - a));
    for (const c of this.chunks) {
      const cEnd = c.at + c.bytes.byteLength;
      if (cEnd <= a || c.at >= b) continue;
      const s = Math.max(a, c.at);
      const e = Math.min(b, cEnd);
      out.set(c.bytes.subarray(s - c.at, e - c.at), s - a);
    }
    return out;
  }
}
