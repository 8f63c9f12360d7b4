"""A throwaway redis-server on a free loopback port, in a temporary folder.

    with RedisServer(tmp_path) as server:
        client = redis.Redis.from_url(server.url)

No persistence (no RDB, no AOF) unless ``persist``: a test gets an empty server and
nothing is left behind. ``password`` starts it with ``--requirepass``, ``tls`` (a
folder with cert.pem and key.pem) serves TLS only, ``extra`` adds arguments.
:meth:`kill` ends it with SIGKILL by pid; :meth:`start` again brings it back on the
same port (with its data, if ``persist``). Tests that need it are skipped when
``redis-server`` is not installed.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

BINARY = shutil.which("redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(
        self,
        folder: Path,
        password: str | None = None,
        tls: Path | None = None,
        persist: bool = False,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.folder = folder
        self.port = free_port()
        self.password = password
        self.tls = tls
        self.persist = persist
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        options = {"password": self.password} if self.password else {}
        if self.tls:
            options["ssl_ca_certs"] = str(self.tls / "cert.pem")
        return redis.Redis.from_url(self.url, **options)

    def arguments(self) -> list[str]:
        persistence = ["--appendonly", "yes", "--appendfsync", "always"]
        if not self.persist:
            persistence = ["--appendonly", "no"]
        ports = ["--port", str(self.port)]
        if self.tls:
            ports = ["--port", "0", "--tls-port", str(self.port)]
            ports += ["--tls-cert-file", str(self.tls / "cert.pem")]
            ports += ["--tls-key-file", str(self.tls / "key.pem")]
            ports += ["--tls-ca-cert-file", str(self.tls / "cert.pem")]
            ports += ["--tls-auth-clients", "no"]
        auth = ["--requirepass", self.password] if self.password else []
        return [*ports, *persistence, *auth, *self.extra]

    def start(self) -> RedisServer:
        if BINARY is None:
            raise FileNotFoundError("redis-server is not installed")
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            BINARY,
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.folder),
            "--save",
            "",
            "--protected-mode",
            "no",
            *self.arguments(),
        ]
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.client().ping()
                return self
            except (redis.ConnectionError, redis.ResponseError):
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"redis-server did not start: {(self.folder / 'redis.log').read_text()}"
                    ) from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL by pid: Redis goes away at once, as in a crash."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
