"""Served throughput: the trainer's roster of 120 against ``/healthz``, under gunicorn.

``make bench-serve BENCH_DATABASE_URL=postgresql://.../bench`` (the data of ``make
bench-scale``, which must have been generated there first). Starts gunicorn with this repository's
``gunicorn.conf.py`` and 2 workers on a free loopback port, then for each page runs a few
client processes that request it one after the other for ``--seconds`` (after a warm-up),
and prints requests per second, the median and 99th percentile latency, and the CPU time the
server's processes spent per request (steadier than wall times on a shared machine). The
budget: the roster's throughput is at least 30% of ``/healthz``'s.

Loopback only, bounded in time: it never talks to another host.
"""

from __future__ import annotations

import argparse
import http.client
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks import scale

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SECRET = "bench-serve-secret"
BUDGET = 0.30  # roster throughput / healthz throughput


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _trainer_cookie(url: str, port: int) -> str:
    """A session cookie of the benchmark's trainer, signed with the server's secret key."""
    import sqlalchemy as sa

    from benchmarks import scale, scale_data
    from trainingmgr.extensions import db

    app = scale.make_app(url)
    app.config["SECRET_KEY"] = SECRET
    with app.app_context():  # never generate (that empties the database): only check
        try:
            count = db.session.scalar(sa.text("SELECT count(*) FROM people"))
        except sa.exc.DBAPIError:
            count = 0
    if count != scale_data.PEOPLE:
        raise SystemExit("No scale data in BENCH_DATABASE_URL: run make bench-scale first.")
    client = app.test_client()
    scale.sign_in(app, client, "trainer@bench.invalid")
    cookie = client.get_cookie("session")
    assert cookie is not None
    return f"session={cookie.value}"


def _client(port: int, path: str, cookie: str, seconds: float) -> list[float]:
    """Request ``path`` one after the other for ``seconds``; the latencies in ms."""
    latencies = []
    headers = {"Cookie": cookie} if cookie else {}
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        conn = http.client.HTTPConnection(HOST, port, timeout=30)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}")
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def _cpu_seconds(master: int) -> float:
    """User + system CPU seconds of the gunicorn master and its workers so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _wait_ready(port: int, server: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                "gunicorn did not start: " + (server.stdout.read() if server.stdout else "")
            )
        time.sleep(0.2)


def measure(
    port: int, master: int, path: str, cookie: str, clients: int, seconds: float
) -> tuple[float, float, float, float]:
    """Requests per second, median and p99 latency (ms), server CPU ms per request."""
    with ProcessPoolExecutor(clients) as pool:
        list(
            pool.map(
                _client, [port] * clients, [path] * clients, [cookie] * clients, [1.0] * clients
            )
        )
        cpu = _cpu_seconds(master)
        started = time.perf_counter()
        results = list(
            pool.map(
                _client, [port] * clients, [path] * clients, [cookie] * clients, [seconds] * clients
            )
        )
        elapsed = time.perf_counter() - started
        cpu = _cpu_seconds(master) - cpu
    latencies = sorted(x for r in results for x in r)
    n = len(latencies)
    p99 = latencies[min(n - 1, int(n * 0.99))]
    return n / elapsed, statistics.median(latencies), p99, cpu * 1000 / n


def _start(command: list[str], env: dict[str, str], port: int) -> subprocess.Popen[str]:
    """gunicorn with ``command``'s arguments, once it answers ``/healthz``."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_ready(port, server)
    except BaseException:
        _stop(server)
        raise
    return server


def _stop(server: subprocess.Popen[str]) -> None:
    server.terminate()
    try:
        server.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def _ratio(
    label: str, server: subprocess.Popen[str], port: int, pages: list[tuple[str, str, str]], args
) -> float:
    """Serve ``pages`` (name, path, cookie) of ``server``, print them; roster / healthz."""
    figures = []
    for name, path, cookie in pages:
        rate, p50, p99, cpu_ms = measure(port, server.pid, path, cookie, args.clients, args.seconds)
        figures.append(rate)
        print(
            f"   {label + name:<34} {rate:8.1f} req/s   median {p50:7.1f} ms   p99 {p99:7.1f} ms"
            f"   server CPU {cpu_ms:6.2f} ms/request"
        )
        sys.stdout.flush()
    return figures[1] / figures[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per page (default 10)")
    parser.add_argument("--clients", type=int, default=4, help="client processes (default 4)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--no-floor", action="store_true", help="skip the bare Flask floor")
    args = parser.parse_args(argv)
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        print("Set BENCH_DATABASE_URL to the scale benchmark's PostgreSQL database.")
        return 2
    from benchmarks import scale_data

    ids = scale_data.Ids()
    port = _free_port()
    cookie = _trainer_cookie(url, port)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": SECRET,
        "TRAININGMGR_ENV": "development",
        "INSTANCE_PATH": tempfile.mkdtemp(prefix="trainingmgr-serve-"),
        "GUNICORN_BIND": f"{HOST}:{port}",
        "WEB_CONCURRENCY": str(args.workers),
        "GUNICORN_ACCESS_LOG": "",
        "RATELIMIT_ENABLED": "0",
        "MAIL_BACKEND": "console",
    }
    print(
        f"   gunicorn, {args.workers} workers, {args.clients} client processes, "
        f"{args.seconds:.0f} s per page; machine: {scale.machine()}"
    )
    server = _start(["--config", "gunicorn.conf.py"], env, port)
    try:
        pages = [
            ("/healthz", "/healthz", ""),
            ("roster of 120 (trainer)", f"/sessions/{ids.roster_session}/attendance", cookie),
        ]
        ratio = _ratio("", server, port, pages, args)
    finally:
        _stop(server)
    flag = "ok" if ratio >= BUDGET else "UNDER"
    print(f"   roster / healthz: {ratio:.1%} (budget at least {BUDGET:.0%})  {flag}")
    if args.no_floor:
        return 0
    # The same two pages from a bare Flask app (benchmarks/serve_floor.py): no framework
    # extension, one query, the same row markup; what the budget compares with on this machine.
    env.update(FLOOR_SESSION=str(ids.roster_session), FLOOR_COHORT=str(ids.roster_cohort))
    bind = ["--config", "python:benchmarks.serve_floor", "--bind", f"{HOST}:{port}"]
    bind += ["--workers", str(args.workers), "--preload"]  # not the app's gunicorn.conf.py
    server = _start([*bind, "benchmarks.serve_floor:app"], env, port)
    try:
        pages = [("/healthz", "/healthz", ""), ("roster", "/roster", "")]
        floor = _ratio("bare Flask ", server, port, pages, args)
    finally:
        _stop(server)
    print(
        f"   bare Flask floor, roster / healthz: {floor:.1%}; "
        f"the app reaches {ratio / floor:.0%} of the floor's ratio"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
