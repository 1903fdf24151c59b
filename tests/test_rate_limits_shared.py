"""Rate limits hold when several processes serve: gunicorn with 3 workers counting in a
shared Redis lets exactly the documented number through; production refuses to start
several workers that would each count apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.servers import Browser, app_environment, free_port, redis_url, serving  # noqa: F401
from trainingmgr.accounts.views import RESET_LIMIT_PER_EMAIL
from trainingmgr.config import ROOT

GUNICORN = [sys.executable, "-m", "gunicorn", "--config", "gunicorn.conf.py"]


def test_three_workers_share_the_limit_of_password_resets_per_address(
    tmp_path: Path,
    redis_url: str,  # noqa: F811
) -> None:
    limit = int(RESET_LIMIT_PER_EMAIL.split("/")[0])  # "3/hour"
    port = free_port()
    env = app_environment(
        tmp_path,
        port,
        TRAININGMGR_ENV="production",
        SESSION_COOKIE_SECURE="0",  # plain HTTP on loopback in this test
        RATELIMIT_STORAGE_URI=redis_url,
        WEB_CONCURRENCY="3",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_ACCESS_LOG="",
    )
    with serving(GUNICORN, env, port):
        statuses = []
        for _ in range(limit + 1):  # a new connection, and so any worker, each time
            browser = Browser(port)
            token = browser.csrf_token("/password/reset")
            form = {"csrf_token": token, "email": "someone@example.org"}
            statuses.append(browser.request("POST", "/password/reset", form)[0])

    assert statuses == [302] * limit + [429]


def test_production_refuses_several_workers_counting_rate_limits_apart(tmp_path: Path) -> None:
    env = app_environment(tmp_path, free_port(), TRAININGMGR_ENV="production", WEB_CONCURRENCY="3")
    env.pop("RATELIMIT_STORAGE_URI", None)

    result = subprocess.run(
        [*GUNICORN, "--check-config"], cwd=ROOT, env=env, capture_output=True, text=True
    )

    assert result.returncode != 0
    assert "RATELIMIT_STORAGE_URI" in result.stderr + result.stdout
    assert "redis://" in result.stderr + result.stdout


def test_one_worker_or_shared_storage_is_accepted(tmp_path: Path) -> None:
    base = app_environment(tmp_path, free_port(), TRAININGMGR_ENV="production")
    for settings in (
        {"WEB_CONCURRENCY": "1"},
        {"WEB_CONCURRENCY": "3", "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"},
    ):
        env = {**base, **settings}
        result = subprocess.run(
            [*GUNICORN, "--check-config"], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr
