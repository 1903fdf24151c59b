"""Each upload is read once; a large one by the worker, the page showing its progress."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests import factories
from tests.test_imports import big_file, form_of, people, read, token_of, upload
from trainingmgr.accounts.models import Role
from trainingmgr.extensions import db
from trainingmgr.imports import jobs, parsing, services, storage
from trainingmgr.imports.models import PendingUpload, UploadState
from trainingmgr.mail import worker
from trainingmgr.people.models import Person


@pytest.fixture
def coordinator(login: Any) -> Any:
    return login(Role.COORDINATOR)


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files read (by name), wherever they are read."""
    seen: list[str] = []
    original = parsing.read_table

    def counting(data: bytes, filename: str = "", *args: Any, **kw: Any) -> parsing.Table:
        seen.append(filename)
        return original(data, filename, *args, **kw)

    for module in (parsing, storage, services, jobs):
        monkeypatch.setattr(module, "read_table", counting)
    monkeypatch.setattr("trainingmgr.imports.views.read_table", counting)
    return seen


@pytest.fixture
def small_threshold(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "IMPORT_WORKER_THRESHOLD_KB", 1)


def test_a_file_is_read_once_for_the_upload_the_previews_and_the_confirmation(
    client: FlaskClient,
    coordinator: Any,
    make: Any,
    reads: list[str],
    monkeypatch: pytest.MonkeyPatch,
    db_session: Any,
) -> None:
    cleaned: list[int] = []
    original = services.clean_row

    def counting(source: parsing.SourceRow, mapping: list[str | None]) -> Any:
        cleaned.append(source.line)
        return original(source, mapping)

    monkeypatch.setattr(services, "clean_row", counting)
    cohort = make.cohort()
    url = f"/cohorts/{cohort.id}/import"
    token = token_of(upload(client, url, read("participants_rtcm_rollout.csv"), "r.csv"))
    html = client.get(f"/import/{token}").text
    html = client.post(
        f"/import/{token}", data=form_of(html), follow_redirects=True
    ).text  # updated preview
    response = client.post(f"/import/{token}/confirm", data=form_of(html), follow_redirects=True)
    assert "Import done: 35 people created" in response.text
    assert reads == ["r.csv"]
    assert len(cleaned) == 35  # cleaned by the first preview, reused by the others


def test_a_new_mapping_cleans_the_rows_again(
    client: FlaskClient, coordinator: Any, db_session: Any
) -> None:
    token = token_of(upload(client, "/people/import", read("participants_cp1251.csv"), "c.csv"))
    form = form_of(client.get(f"/import/{token}").text)
    form["map-6"] = ""  # the position is not imported after all
    html = client.post(f"/import/{token}", data=form, follow_redirects=True).text
    client.post(f"/import/{token}/confirm", data=form_of(html))
    assert db_session.scalars(sa.select(Person.position)).all() == [None] * 4


def test_a_large_file_is_read_by_the_worker_with_its_progress_on_the_page(
    client: FlaskClient,
    coordinator: Any,
    make: Any,
    small_threshold: None,
    reads: list[str],
    monkeypatch: pytest.MonkeyPatch,
    db_session: Any,
) -> None:
    cohort = make.cohort(capacity=None)
    data = big_file(2500)
    token = token_of(upload(client, f"/cohorts/{cohort.id}/import", data, "big.csv"))
    assert reads == []  # not read in the request
    page = client.get(f"/import/{token}")
    assert page.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in page.text  # reloads itself, no script
    assert "Waiting for the file to be read" in page.text
    assert 'id="import-progress-bar" max="100" value="0"' in page.text

    progress: list[int] = []
    monkeypatch.setattr(parsing, "PROGRESS_EVERY", 1000)
    original = jobs._progress

    def seen(token_: str, rows: int) -> None:
        original(token_, rows)
        progress.append(db.session.get(PendingUpload, token_).progress)

    monkeypatch.setattr(jobs, "_progress", seen)
    assert jobs.read_queued() == 1
    assert progress == [1000, 2000]  # written (and committed) as the file is read
    assert jobs.read_queued() == 0  # nothing else waits

    html = client.get(f"/import/{token}").text
    assert 'data-testid="count-create">Will create: 2500<' in html
    response = client.post(f"/import/{token}/confirm", data=form_of(html), follow_redirects=True)
    assert "Import done: 2500 people created, 2500 enrolled." in response.text
    assert reads == ["big.csv"]  # once, by the worker


def test_the_progress_bar_shows_how_far_the_worker_is(
    client: FlaskClient, coordinator: Any, small_threshold: None, db_session: Any
) -> None:
    token = token_of(upload(client, "/people/import", big_file(2500), "big.csv"))
    row = db.session.get(PendingUpload, token)
    assert row.total == 2501  # its lines: an estimate
    row.state, row.progress = UploadState.PARSING, 1000
    db.session.commit()
    html = client.get(f"/import/{token}").text
    assert "1000 rows read of about 2501" in html
    assert '<progress class="w-100" id="import-progress-bar" max="100" value="39">' in html
    assert 'data-testid="import-stalled"' not in html
    row.uploaded_at -= timedelta(minutes=6)  # no worker has read it for a while
    db.session.commit()
    assert "the background worker may not be running" in client.get(f"/import/{token}").text
    # A confirmation posted meanwhile (a second tab) imports nothing and shows the same page.
    assert "1000 rows read" in client.post(f"/import/{token}/confirm", data={}).text
    assert people(db_session) == 0


def test_a_large_unreadable_file_gets_its_reason_on_the_upload_page(
    client: FlaskClient, coordinator: Any, make: Any, small_threshold: None, db_session: Any
) -> None:
    cohort = make.cohort()
    data = b"\x00\x01\x02First name,Last name\x00\x00\x03\x04" * 200
    token = token_of(upload(client, f"/cohorts/{cohort.id}/import", data, "x.csv"))
    assert jobs.read_queued() == 1
    response = client.get(f"/import/{token}")
    assert response.headers["Location"] == f"/cohorts/{cohort.id}/import"
    assert "it contains binary data" in client.get(response.headers["Location"]).text


def test_the_worker_loop_reads_queued_uploads(app: Flask, committed_db: Any) -> None:
    """The delivery worker (``flask worker``, or the thread of ``make run``) runs the job."""
    user = factories.user(Role.COORDINATOR)
    db.session.commit()
    queued = storage.accept_upload(
        big_file(50), "w.csv", user_id=user.id, cohort_id=None, threshold=10
    )
    db.session.commit()
    worker.deliver_once(app)
    db.session.expire_all()
    done = storage.load_upload(queued.token, user.id)
    assert done.state is UploadState.READY
    assert done.table is not None and len(done.table.rows) == 50


def test_a_broken_job_does_not_stop_the_mail(
    app: Flask, committed_db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from trainingmgr.core import jobs as registry

    def broken() -> int:
        raise RuntimeError("boom")

    monkeypatch.setitem(registry.JOBS, "broken", broken)
    assert registry.run_all() == 0  # logged, rolled back; the loop goes on
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PendingUpload)) == 0
