"""``flask --app app worker``: deliver the e-mail outbox."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

import click
from flask import Flask, current_app

from trainingmgr.mail import worker as mail_worker
from trainingmgr.mail.delivery import DeliveryCounts, get_backend

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM and SIGINT set ``stop`` (the message being sent is finished first)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set in the main thread
        return

    def handler(signum: int, _frame: FrameType | None) -> None:
        click.echo(f"Received {signal.Signals(signum).name}: stopping after this message.")
        stop.set()

    previous: dict[int, Any] = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


def register(app: Flask) -> None:
    @app.cli.command("worker")
    @click.option("--once", is_flag=True, help="Deliver every message that is due, then exit.")
    @click.option(
        "--poll",
        type=click.FloatRange(min=0.1),
        default=None,
        help="Seconds between looks at the outbox (default: WORKER_POLL_SECONDS, 2).",
    )
    def worker(once: bool, poll: float | None) -> None:
        """Send the e-mail outbox: retries with backoff; stops cleanly on SIGTERM/Ctrl+C.

        Several workers may run at once on PostgreSQL (each message goes out once).
        """
        application = current_app._get_current_object()  # type: ignore[attr-defined]
        backend = application.config.get("MAIL_BACKEND")
        try:
            get_backend(application.config)  # a wrong setting stops here, not in the loop
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        stop = threading.Event()

        def report(counts: DeliveryCounts) -> None:
            click.echo(f"E-mail: {counts}.")

        if not once:
            click.echo(f"E-mail worker started (backend: {backend}). Stop with Ctrl+C.")
        with stop_on_signals(stop):
            try:
                total = mail_worker.run(
                    application, stop, once=once, poll=poll, on_batch=None if once else report
                )
            except Exception as exc:
                raise click.ClickException(f"E-mail delivery failed: {exc}") from exc
        if once:
            click.echo(f"E-mail: {total}.")
        else:
            click.echo(f"E-mail worker stopped ({total}).")
