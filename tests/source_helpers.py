"""Media for the source and CLI tests: tiny video files and a local MJPEG server."""

from __future__ import annotations

import http.server
import socket
import socketserver
import threading
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

# The paper's `average` rule (not the live preset's `change`) marks boundaries within the
# few steps these runs take, so every layer of their hierarchy has events to check.
SMALL_MODEL = ["--set", "feature_dim=32", "--set", "buffer_size=4", "--set", "evolve_every=4",
               "--set", "optimize_every=5", "--set", "window_size=3", "--set",
               "demarcation_mode=average", "--device", "cpu", "--seed", "0"]


def colour_frame(i: int, size: tuple[int, int] = (64, 48)) -> np.ndarray:
    """BGR frame i: a flat colour that changes with i, plus a moving bright square."""
    w, h = size
    frame = np.zeros((h, w, 3), np.uint8)
    frame[:] = ((i * 37) % 200 + 20, (i * 91) % 200 + 20, (i * 53) % 200 + 20)
    x = (i * 3) % (w - 8)
    frame[4:12, x:x + 8] = 255
    return frame


def write_video(path: Path, frames: int, fps: float = 10.0, size: tuple[int, int] = (64, 48),
                make: Callable[[int, tuple[int, int]], np.ndarray] = colour_frame) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened(), "MJPG writer unavailable"
    for i in range(frames):
        writer.write(make(i, size))
    writer.release()
    return path


class MjpegServer:
    """Serves `frames` JPEGs as multipart/x-mixed-replace on 127.0.0.1, then ends the stream.

    `stall_after`: stop sending (but keep the connection open) after that many frames.
    `port`: 0 for any free one; a camera that comes back does so at the same address.
    `sizes`: frame i is sized sizes[(i // 10) % len(sizes)] (a camera changing resolution).
    """

    def __init__(self, frames: int = 30, fps: float = 30.0, size: tuple[int, int] = (64, 48),
                 stall_after: int | None = None, port: int = 0,
                 sizes: list[tuple[int, int]] | None = None):
        self.frames, self.fps, self.size, self.stall_after = frames, fps, size, stall_after
        self.sizes = sizes or [size]
        self.served = 0
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                try:
                    for i in range(server.frames):
                        if server.stop.is_set():
                            return
                        if server.stall_after is not None and i >= server.stall_after:
                            server.stop.wait(30)
                            return
                        size = server.sizes[(i // 10) % len(server.sizes)]
                        ok, jpeg = cv2.imencode(".jpg", colour_frame(i, size))
                        data = jpeg.tobytes()
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\n"
                                         b"Content-Length: %d\r\n\r\n" % len(data))
                        self.wfile.write(data + b"\r\n")
                        server.served += 1
                        time.sleep(1.0 / server.fps)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

        self.httpd = Server(("127.0.0.1", port), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/stream.mjpg"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> MjpegServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


class SilentServer:
    """Accepts connections and never answers: a server that would hang a naive client."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/stream.mjpg"
        self.connections: list[socket.socket] = []
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self.sock.settimeout(0.1)
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(conn)

    def __enter__(self) -> SilentServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.closed.set()
        self.thread.join(timeout=5)
        self.sock.close()
        for conn in self.connections:
            conn.close()


def free_port() -> int:
    """A port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
