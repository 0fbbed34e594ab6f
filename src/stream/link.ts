/**
 * A stream's connection to one provider: where its audio starts in the
 * stream, how far it has been sent, the format conversion and framing for
 * that provider, and the provider's utterance keys seen on it. A reconnect or
 * a fallback makes a new link; results of an abandoned link are ignored.
 * @module
 */
import { AudioConverter, negotiateFormat } from '../audio/converter.js';
import { bytesPerMs, bytesPerSample, type AudioFormat } from '../audio/format.js';
import type { SttError } from '../errors/index.js';
import type { Provider, ProviderSession, SessionCosts } from '../providers/provider.js';
import { FrameChunker } from './chunker.js';
import type { ConnectSettings } from './connect-settings.js';

/** An utterance of the stream (ids continue across links). @internal */
export interface Utterance {
  id: number;
  /** Stream-absolute start, ms. */
  startMs: number;
  /** Wall time of its first partial (performance.now()). */
  firstPartialAt?: number;
  finalized: boolean;
}

/** @internal */
export class Link {
  readonly controller = new AbortController();
  readonly segments = new Map<number, Utterance>();
  readonly wire: Required<AudioFormat>;
  readonly wireBytesPerMs: number;
  session: ProviderSession | undefined;
  costs: SessionCosts | undefined;
  /** Input byte position sent through this link. */
  sent: number;
  /**
   * Wire bytes handed to the session and not yet flushed to the network. Sessions call `onSent`
   * for every `send()`, also after they closed; a retired link forgets what it had in flight.
   */
  inflight = 0;
  /** Finals delivered through this link (the first one reports the connection's costs). */
  finals = 0;
  /** Burst budget left for the catch-up after opening, input bytes. */
  burstLeft = 0;
  /** `session.end()` was called. */
  ending = false;
  /** Abandoned after a failure: nothing it does affects the stream any more. */
  retired = false;
  /** Bytes the window dropped before this link could send them. */
  lostBytes = 0;
  /** The session's failure while it did not serve the stream (connecting, or opened ahead). */
  failure: SttError | undefined;
  /** When `connect()` resolved (performance.now()): the connection's age counts from here. */
  openedAt = 0;
  private readonly converter: AudioConverter;
  private readonly chunker: FrameChunker;
  private _offset: number;

  constructor(
    readonly provider: Provider,
    /** Input byte position of the link's first audio byte (its results are relative to it). */
    offset: number,
    input: Required<AudioFormat>,
    /** What the connection was opened with. */
    readonly settings: ConnectSettings,
  ) {
    this._offset = offset;
    this.sent = offset;
    this.wire = negotiateFormat(input, provider.capabilities);
    this.wireBytesPerMs = bytesPerMs(this.wire);
    this.converter = new AudioConverter(input, this.wire);
    const samples = Math.max(1, Math.round((this.wire.sampleRate * (provider.chunkMs ?? 100)) / 1000));
    this.chunker = new FrameChunker(samples * bytesPerSample(this.wire.encoding));
  }

  /** Input byte position of the link's first audio byte (its results are relative to it). */
  get offset(): number {
    return this._offset;
  }

  /**
   * Place a connection opened ahead (a handover) on the stream: its audio starts at input byte
   * `position`. Only before anything was sent through it.
   */
  startAt(position: number): void {
    if (this.sent !== this._offset) throw new Error('Link.startAt() after audio was sent');
    this._offset = position;
    this.sent = position;
  }

  /** Wire bytes held (not yet a full frame, or not yet flushed by the socket). */
  get pendingWireBytes(): number {
    return this.inflight + this.chunker.pending;
  }

  /** Convert, frame and send input bytes that follow `sent`. */
  sendInput(bytes: Uint8Array, onDrained: () => void): void {
    this.sent += bytes.byteLength;
    const wire = this.converter.convert(bytes);
    if (wire.byteLength > 0) this.chunker.push(wire, (frame) => this.sendFrame(frame, onDrained));
  }

  /** Send the partial frame now (before Finalize). */
  flushFrame(onDrained: () => void): void {
    const rest = this.chunker.flush();
    if (rest) this.sendFrame(rest, onDrained);
  }

  /** Send what the converter and framer still hold (end of audio). */
  flushAll(onDrained: () => void): void {
    const tail = this.converter.flush();
    if (tail.byteLength > 0) this.chunker.push(tail, (frame) => this.sendFrame(frame, onDrained));
    this.flushFrame(onDrained);
  }

  /** Stop: cancel a pending connect, close the session, forget the bytes in flight. */
  abort(): void {
    clearTimeout(this.lingering);
    this.lingering = undefined;
    this.retired = true;
    this.inflight = 0;
    this.controller.abort();
    this.session?.abort();
  }

  /**
   * Retire now (nothing more is sent, whatever arrives is ignored by the stream) and close the
   * session after `lingerMs`, so what is in flight on it (a WebSocket ping the server sent to learn
   * that its last final arrived) completes; then `closed()`. A session that still holds audio it
   * would go on sending (one that paces audio, Google's) is closed at once instead: the old
   * connection must hear nothing after the switch. {@link abort} closes it at once.
   */
  closeQuietly(lingerMs: number, closed: () => void): void {
    if ((this.session?.bufferedAmount ?? 0) > 0) {
      this.abort();
      closed();
      return;
    }
    this.retired = true;
    this.inflight = 0;
    this.lingering = setTimeout(() => {
      this.abort();
      closed();
    }, lingerMs);
  }

  private lingering: NodeJS.Timeout | undefined;

  private sendFrame(frame: Uint8Array, onDrained: () => void): void {
    const s = this.session;
    if (!s || this.retired) return;
    const n = frame.byteLength;
    this.inflight += n;
    s.send(frame, () => {
      if (this.retired) return; // counted as gone at abort()
      this.inflight -= n;
      onDrained();
    });
  }
}
