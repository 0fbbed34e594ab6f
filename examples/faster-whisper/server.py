#!/usr/bin/env python3
"""Reference Faster-Whisper WebSocket server for streaming-stt's FasterWhisperProvider.

The protocol (the seeds' ``realtime_server.py`` pattern):

* The client opens ``ws://HOST:PORT`` (any path) and sends **binary** frames of
  little-endian float32 mono samples at 16 kHz, in [-1, 1]. Frames may have any
  size up to ``--max-message-bytes`` and may split a sample.
* The server appends them to a per-connection buffer. Each time
  ``--chunk-duration`` seconds are buffered it transcribes them and answers one
  text frame ``{"text": "..."}`` (empty when nothing was heard), then keeps the
  last ``--overlap-duration`` seconds as the start of the next chunk. Replies
  come in chunk order, one per chunk.
* Each reply also carries the segments with their times, and word times
  (faster-whisper's ``word_timestamps=True``; ``--no-word-timestamps`` leaves
  them out), all in seconds from the start of the chunk::

      {"text": "we are both", "segments": [{"start": 0.12, "end": 1.04, "text": " we are both",
        "words": [{"word": " we", "start": 0.12, "end": 0.3, "probability": 0.98}, ...]}]}

  The client removes the words two chunks share (the overlap) by these times;
  with a server that sends ``{"text"}`` only, it compares the words instead.
* A failed transcription is answered ``{"error": "..."}`` (the client fails the
  stream, so a fallback provider can take over). A text frame from the client
  closes the connection with 1003.
* There is no end-of-stream message: the client pads with silence until the
  last chunk is full, reads its reply, and closes.

One ``WhisperModel`` is loaded at start-up and shared by every connection.
Transcriptions run in a thread pool of ``--workers`` threads (the model is
created with the same ``num_workers``, so that many run in parallel), never on
the event loop, which keeps receiving audio and answering pings meanwhile.

Run ``python3 server.py --help`` for the flags; README.md in this folder covers
GPU and CPU set-ups.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional

import numpy as np
from faster_whisper import WhisperModel
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

SAMPLE_RATE = 16000
log = logging.getLogger("faster-whisper-server")


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Faster-Whisper WebSocket server: float32 16 kHz mono frames in, "
        '{"text": ...} per chunk out (streaming-stt FasterWhisperProvider).'
    )
    p.add_argument("--host", default="0.0.0.0", help="interface to bind (default 0.0.0.0)")
    p.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p.add_argument(
        "--model",
        default="large-v3-turbo",
        help="model size (tiny, base, small, medium, large-v3, large-v3-turbo, distil-*), "
        "a CTranslate2 model id on the Hugging Face Hub, or a local directory (default large-v3-turbo)",
    )
    p.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"], help="default auto")
    p.add_argument("--device-index", type=int, default=0, help="GPU index (default 0)")
    p.add_argument(
        "--compute-type",
        default="default",
        help="float16 or int8_float16 on GPU, int8 on CPU (default: the model's type for the device)",
    )
    p.add_argument("--language", default="ko", help="ISO 639-1 code, or 'auto' to detect per chunk (default ko)")
    p.add_argument("--task", default="transcribe", choices=["transcribe", "translate"])
    p.add_argument("--chunk-duration", type=float, default=2.0, help="seconds transcribed per reply (default 2.0)")
    p.add_argument(
        "--overlap-duration",
        type=float,
        default=0.5,
        help="seconds of each chunk repeated at the start of the next (default 0.5)",
    )
    p.add_argument("--beam-size", type=int, default=1, help="beam size (default 1: lowest latency)")
    p.add_argument(
        "--no-vad-filter",
        dest="vad_filter",
        action="store_false",
        help="do not run Silero VAD before decoding (VAD removes silence, the main source of hallucinations)",
    )
    p.add_argument(
        "--no-word-timestamps",
        dest="word_timestamps",
        action="store_false",
        help="leave word times out of the replies (segment times are always sent)",
    )
    p.add_argument("--initial-prompt", default=None, help="Whisper prompt (domain words, style)")
    p.add_argument("--workers", type=int, default=1, help="transcriptions run in parallel (default 1)")
    p.add_argument("--cpu-threads", type=int, default=0, help="CPU threads per worker (default 0: library default)")
    p.add_argument("--download-root", default=None, help="where models are downloaded (default: the HF cache)")
    p.add_argument(
        "--max-message-bytes",
        type=int,
        default=1 << 20,
        help="largest client frame accepted, bytes (default 1048576, as the websockets library)",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    args = p.parse_args(argv)
    if not 0.2 <= args.chunk_duration <= 30.0:
        p.error("--chunk-duration must be between 0.2 and 30 seconds (Whisper sees at most 30 s)")
    if not 0.0 <= args.overlap_duration < args.chunk_duration:
        p.error("--overlap-duration must be >= 0 and shorter than --chunk-duration")
    if args.workers < 1:
        p.error("--workers must be >= 1")
    # streaming-stt computes chunk times in whole milliseconds
    for name in ("chunk_duration", "overlap_duration"):
        ms = getattr(args, name) * 1000
        if abs(ms - round(ms)) > 1e-6:
            p.error(f"--{name.replace('_', '-')} must be a whole number of milliseconds")
    return args


class ChunkBuffer:
    """Per-connection audio buffer: yields chunks of ``chunk`` samples, each
    starting with the last ``overlap`` samples of the previous one. Memory is
    one chunk, whatever the client sends."""

    def __init__(self, chunk_samples: int, overlap_samples: int) -> None:
        self.chunk = chunk_samples
        self.overlap = overlap_samples
        self.buf = np.zeros(chunk_samples, dtype=np.float32)
        self.fill = 0
        self.carry = b""  # bytes of a float32 sample split across frames

    def push(self, data: bytes) -> List[np.ndarray]:
        data = self.carry + data
        whole = len(data) - len(data) % 4
        self.carry = data[whole:]
        samples = np.frombuffer(data[:whole], dtype="<f4")
        chunks: List[np.ndarray] = []
        off = 0
        while off < len(samples):
            take = min(self.chunk - self.fill, len(samples) - off)
            self.buf[self.fill : self.fill + take] = samples[off : off + take]
            self.fill += take
            off += take
            if self.fill == self.chunk:
                chunks.append(self.buf.copy())
                if self.overlap:
                    self.buf[: self.overlap] = self.buf[self.chunk - self.overlap :]
                self.fill = self.overlap
        return chunks


def _seconds(value) -> Optional[float]:
    """A time from faster-whisper (seconds from the start of the chunk), rounded to the ms."""
    return None if value is None else round(float(value), 3)


class Transcriber:
    """The one model of the process, and the threads that run it."""

    def __init__(self, args: argparse.Namespace) -> None:
        started = time.perf_counter()
        self.model = WhisperModel(
            args.model,
            device=args.device,
            device_index=args.device_index,
            compute_type=args.compute_type,
            cpu_threads=args.cpu_threads,
            num_workers=args.workers,
            download_root=args.download_root,
        )
        log.info("loaded %s on %s (%s) in %.1f s", args.model, args.device, args.compute_type, time.perf_counter() - started)
        self.pool = ThreadPoolExecutor(max_workers=args.workers, thread_name_prefix="whisper")
        self.options = dict(
            language=None if args.language == "auto" else args.language,
            task=args.task,
            beam_size=args.beam_size,
            vad_filter=args.vad_filter,
            condition_on_previous_text=False,  # chunks are independent; avoids repetition loops
            initial_prompt=args.initial_prompt,
            word_timestamps=args.word_timestamps,
        )

    def _run(self, audio: np.ndarray) -> dict:
        # transcribe() returns a lazy generator: the model runs while it is iterated, in this thread.
        segments, _info = self.model.transcribe(audio, **self.options)
        out = []
        for s in segments:
            if not s.text.strip():
                continue
            seg = {"start": _seconds(getattr(s, "start", None)), "end": _seconds(getattr(s, "end", None)), "text": s.text}
            words = getattr(s, "words", None)
            if words:
                seg["words"] = [
                    {"word": w.word, "start": _seconds(w.start), "end": _seconds(w.end), "probability": round(float(w.probability), 4)}
                    for w in words
                ]
            out.append(seg)
        message = {"text": " ".join(seg["text"].strip() for seg in out)}
        # times are sent only when every segment has them (a stand-in model may have none)
        if all(seg["start"] is not None and seg["end"] is not None for seg in out):
            message["segments"] = out
        return message

    async def transcribe(self, audio: np.ndarray) -> dict:
        return await asyncio.get_running_loop().run_in_executor(self.pool, self._run, audio)

    async def warm_up(self) -> None:
        """Decode one second of silence (VAD off, so the decoder really runs): the first call
        initialises CUDA kernels, and no caller should pay for that."""

        def run() -> None:
            segments, _ = self.model.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32), **{**self.options, "vad_filter": False})
            for _ in segments:
                pass

        await asyncio.get_running_loop().run_in_executor(self.pool, run)

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


async def handle(ws: ServerConnection, transcriber: Transcriber, args: argparse.Namespace) -> None:
    """One client: receive audio, transcribe each full chunk in order, reply."""
    peer = ws.remote_address
    chunks = ChunkBuffer(round(args.chunk_duration * SAMPLE_RATE), round(args.overlap_duration * SAMPLE_RATE))
    # Bounded: when transcription falls behind, receiving waits (TCP backpressure to the client).
    queue: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=4)
    log.info("client %s connected", peer)

    async def reply_in_order() -> None:
        index = 0
        while True:
            audio = await queue.get()
            started = time.perf_counter()
            try:
                message = await transcriber.transcribe(audio)
            except Exception as exc:  # a failed decode (CUDA OOM, …): tell the client
                log.exception("client %s: chunk %d failed", peer, index)
                message = {"error": f"transcription failed: {type(exc).__name__}"}
            log.debug("client %s: chunk %d in %.0f ms: %r", peer, index, (time.perf_counter() - started) * 1000, message)
            index += 1
            try:
                await ws.send(json.dumps(message, ensure_ascii=False))
            except ConnectionClosed:
                return

    replier = asyncio.create_task(reply_in_order())
    try:
        async for frame in ws:
            if isinstance(frame, str):
                await ws.close(1003, "binary float32 frames only")
                break
            for chunk in chunks.push(frame):
                await queue.put(chunk)
    except ConnectionClosed:
        pass
    finally:
        replier.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await replier
        log.info("client %s disconnected", peer)


async def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    transcriber = Transcriber(args)
    await transcriber.warm_up()

    loop = asyncio.get_running_loop()
    stop: asyncio.Future[None] = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows
            loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))

    async with serve(
        lambda ws: handle(ws, transcriber, args),
        args.host,
        args.port,
        max_size=args.max_message_bytes,
        compression=None,
    ):
        log.info(
            "listening on ws://%s:%d (chunk %.3f s, overlap %.3f s, language %s)",
            args.host,
            args.port,
            args.chunk_duration,
            args.overlap_duration,
            args.language,
        )
        await stop
    transcriber.close()


if __name__ == "__main__":
    asyncio.run(main())
