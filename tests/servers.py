"""Real servers for the tests that need another process: the app as `make run` or gunicorn
start it, and a redis-server of the test's own. Plus a small HTTP client keeping a cookie."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

import pytest

from trainingmgr.config import ROOT

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
FLASK = [sys.executable, "-m", "flask", "--app", "app"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def app_environment(tmp_path: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of an app process on its own SQLite file in ``tmp_path``, migrated."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'trainingmgr.sqlite3'}",
        INSTANCE_PATH=str(tmp_path),
        SECRET_KEY="a-test-secret-key",
        TRAININGMGR_ENV="development",
        BASE_URL=f"http://127.0.0.1:{port}",
        MAIL_BACKEND="console",
    )
    env.update(settings)
    subprocess.run([*FLASK, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    return env


def wait_for_port(port: int, process: subprocess.Popen[str], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                output = process.stderr.read() if process.stderr else ""
                pytest.fail(f"the server on port {port} did not start: {output}")
            time.sleep(0.1)


@contextmanager
def serving(command: list[str], env: dict[str, str], port: int) -> Iterator[subprocess.Popen[str]]:
    """Run ``command`` (a server listening on ``port``) until the block ends."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_port(port, process)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    """A redis-server of this test's own (Debian's package; `make test` installs it)."""
    port = free_port()
    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", str(tmp_path),
    ]  # fmt: skip
    with serving(command, dict(os.environ), port):
        yield f"redis://127.0.0.1:{port}"


class Browser:
    """A client keeping its own session cookie (copy a signed-in one to share a session)."""

    def __init__(self, port: int, cookie: str = "") -> None:
        self.port = port
        self.cookie = cookie

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None
    ) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8", "replace")
            set_cookie = response.getheader("Set-Cookie")
            if set_cookie:
                self.cookie = set_cookie.split(";", 1)[0]
            return response.status, text
        finally:
            conn.close()

    def csrf_token(self, path: str) -> str:
        """GET ``path`` and return the CSRF token of its form (and keep the session cookie)."""
        _status, page = self.request("GET", path)
        match = CSRF.search(page)
        assert match, f"no form on {path}"
        return match.group(1)
