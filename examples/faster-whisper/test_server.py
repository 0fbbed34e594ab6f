#!/usr/bin/env python3
"""Checks of server.py that need neither a GPU nor a model: chunking with overlap,
replies in order, protocol errors. Only numpy is required; faster_whisper (and
websockets, when not installed) are replaced by stand-ins.

    python3 examples/faster-whisper/test_server.py
"""
import asyncio
import contextlib
import io
import json
import os
import sys
import types
import unittest

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


class FakeModel:
    """Stands in for faster_whisper.WhisperModel: 'transcribes' a chunk as the
    rounded values of its first and last samples, one segment spanning the
    chunk, with two words (their times, like faster-whisper's, in seconds from
    the start of the chunk) when word_timestamps is on."""

    def __init__(self, *args, **kwargs):
        self.kwargs = kwargs

    def transcribe(self, audio, **options):
        assert audio.dtype == np.float32
        duration = len(audio) / 16000
        first, last = f"{audio[0]:.2f}", f"{audio[-1]:.2f}"
        words = None
        if options.get("word_timestamps"):
            words = [
                types.SimpleNamespace(word=f" {first}", start=0.0, end=duration / 2, probability=0.91234),
                types.SimpleNamespace(word=f" {last}", start=duration / 2, end=duration, probability=0.8),
            ]
        seg = types.SimpleNamespace(text=f" {first} {last} ", start=0.0, end=duration, words=words)
        return iter([seg]), types.SimpleNamespace(language=options.get("language"))


class ConnectionClosed(Exception):
    pass


def install_stubs():
    fw = types.ModuleType("faster_whisper")
    fw.WhisperModel = FakeModel
    sys.modules["faster_whisper"] = fw
    try:
        import websockets.asyncio.server  # noqa: F401
    except ImportError:
        ws = types.ModuleType("websockets")
        ws_asyncio = types.ModuleType("websockets.asyncio")
        ws_server = types.ModuleType("websockets.asyncio.server")
        ws_exc = types.ModuleType("websockets.exceptions")
        ws_server.serve = None
        ws_server.ServerConnection = object
        ws_exc.ConnectionClosed = ConnectionClosed
        sys.modules.update(
            {"websockets": ws, "websockets.asyncio": ws_asyncio, "websockets.asyncio.server": ws_server, "websockets.exceptions": ws_exc}
        )
    sys.path.insert(0, HERE)


install_stubs()
import server  # noqa: E402


class FakeConnection:
    """The part of websockets' ServerConnection that handle() uses."""

    remote_address = ("127.0.0.1", 1)

    def __init__(self, frames):
        self.frames = list(frames)
        self.sent = []
        self.closed_with = None

    def __aiter__(self):
        return self

    async def __anext__(self):
        await asyncio.sleep(0)
        if not self.frames or self.closed_with is not None:
            # like a client that stays until the replies are in, then closes
            for _ in range(200):
                await asyncio.sleep(0.005)
            raise StopAsyncIteration
        return self.frames.pop(0)

    async def send(self, message):
        self.sent.append(json.loads(message))

    async def close(self, code, reason=""):
        self.closed_with = code


def f32(values):
    return np.asarray(values, dtype="<f4").tobytes()


class ChunkBufferTest(unittest.TestCase):
    def test_chunks_with_overlap(self):
        b = server.ChunkBuffer(4, 1)
        out = b.push(f32([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]))
        self.assertEqual([c.tolist() for c in out], [[0, 1, 2, 3], [3, 4, 5, 6], [6, 7, 8, 9]])
        self.assertEqual(b.fill, 1)

    def test_frames_that_split_samples(self):
        b = server.ChunkBuffer(3, 0)
        data = f32([1, 2, 3, 4, 5, 6])
        out = []
        for i in range(0, len(data), 5):
            out += b.push(data[i : i + 5])
        self.assertEqual([c.tolist() for c in out], [[1, 2, 3], [4, 5, 6]])

    def test_memory_is_one_chunk(self):
        b = server.ChunkBuffer(16000, 4000)
        for _ in range(50):
            b.push(f32(np.zeros(16000)))
        self.assertEqual(b.buf.shape, (16000,))


class HandlerTest(unittest.TestCase):
    def run_handler(self, frames, argv=()):
        args = server.parse_args(["--chunk-duration", "0.5", "--overlap-duration", "0.25", *argv])
        transcriber = server.Transcriber(args)
        conn = FakeConnection(frames)
        try:
            asyncio.run(server.handle(conn, transcriber, args))
        finally:
            transcriber.close()
        return conn

    def test_one_reply_per_chunk_in_order(self):
        ramp = np.linspace(0, 1, 16000, dtype=np.float32)  # 1 s: chunks at 0-0.5, 0.25-0.75, 0.5-1.0
        conn = self.run_handler([ramp[i : i + 1600].tobytes() for i in range(0, 16000, 1600)])
        self.assertEqual(len(conn.sent), 3)
        firsts = [float(m["text"].split(" ")[0]) for m in conn.sent]
        self.assertEqual(firsts, sorted(firsts))
        self.assertAlmostEqual(firsts[1], 0.25, places=2)  # the overlap is re-transcribed

    def test_replies_carry_segment_and_word_times_from_the_chunk_start(self):
        ramp = np.linspace(0, 1, 8000, dtype=np.float32)  # 0.5 s: one chunk
        conn = self.run_handler([ramp.tobytes()])
        self.assertEqual(len(conn.sent), 1)
        reply = conn.sent[0]
        self.assertEqual(reply["text"], "0.00 1.00")
        [seg] = reply["segments"]
        self.assertEqual((seg["start"], seg["end"]), (0.0, 0.5))
        self.assertEqual(
            seg["words"],
            [
                {"word": " 0.00", "start": 0.0, "end": 0.25, "probability": 0.9123},
                {"word": " 1.00", "start": 0.25, "end": 0.5, "probability": 0.8},
            ],
        )

    def test_no_word_timestamps_keeps_segment_times_only(self):
        ramp = np.linspace(0, 1, 8000, dtype=np.float32)
        conn = self.run_handler([ramp.tobytes()], ["--no-word-timestamps"])
        [seg] = conn.sent[0]["segments"]
        self.assertNotIn("words", seg)
        self.assertEqual(seg["end"], 0.5)

    def test_text_frame_closes_with_1003(self):
        conn = self.run_handler(["hello"])
        self.assertEqual(conn.closed_with, 1003)
        self.assertEqual(conn.sent, [])

    def test_flags(self):
        with self.assertRaises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
            server.parse_args(["--chunk-duration", "1", "--overlap-duration", "1"])
        a = server.parse_args(["--language", "auto", "--device", "cpu", "--compute-type", "int8"])
        t = server.Transcriber(a)
        self.assertIsNone(t.options["language"])
        self.assertTrue(t.options["word_timestamps"])
        self.assertEqual(t.model.kwargs["compute_type"], "int8")
        t.close()


if __name__ == "__main__":
    unittest.main()
