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
    rounded values of its first and last samples."""

    def __init__(self, *args, **kwargs):
        self.kwargs = kwargs

    def transcribe(self, audio, **options):
        assert audio.dtype == np.float32
        seg = types.SimpleNamespace(text=f" {audio[0]:.2f}-{audio[-1]:.2f} ")
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
        firsts = [float(m["text"].split("-")[0]) for m in conn.sent]
        self.assertEqual(firsts, sorted(firsts))
        self.assertAlmostEqual(firsts[1], 0.25, places=2)  # the overlap is re-transcribed

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
        self.assertEqual(t.model.kwargs["compute_type"], "int8")
        t.close()


if __name__ == "__main__":
    unittest.main()
