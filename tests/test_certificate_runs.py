""" "Issue to all eligible" for more people than a request renders: issued by the worker in
batches, the page showing how many are done, then what happened (issue 16)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from tests.test_certificates_views import certificates, coordinator_of, course, flashes, text
from trainingmgr.accounts.models import Role
from trainingmgr.audit.models import AuditEvent
from trainingmgr.certificates import runs
from trainingmgr.certificates.models import CertificateRun, CertificateStatus, RunState
from trainingmgr.extensions import db
from trainingmgr.mail import worker
from trainingmgr.mail.models import OutboxMessage


@pytest.fixture
def small_runs(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """At most 3 certificates in the request, batches of 2 in the worker."""
    monkeypatch.setitem(app.config, "CERTIFICATES_INLINE_MAX", 3)
    monkeypatch.setitem(app.config, "CERTIFICATES_BATCH", 2)


def test_a_large_cohort_is_issued_by_the_worker_with_its_progress_on_the_page(
    client: FlaskClient, login: Any, make: Any, small_runs: None
) -> None:
    c = course(make, extra=3)  # 5 eligible, 1 not
    coordinator = coordinator_of(login, c.cohort)

    response = client.post(f"{c.url}/issue-all", follow_redirects=True)

    assert certificates() == []  # nothing rendered in the request
    assert "Issuing 5 certificates in the background" in text(response)
    assert '<meta http-equiv="refresh" content="3">' in response.text  # reloads, no script
    assert "0 of 5 done" in text(response)
    assert 'data-testid="issue-all"' not in response.text  # not twice

    assert runs.work() == 2  # one batch per turn of the worker
    page = client.get(c.url)
    assert "2 of 5 done" in text(page)
    assert 'id="issue-run-bar" max="100" value="40"' in page.text

    assert runs.work() == 2
    assert runs.work() == 1
    assert runs.work() == 0  # nothing left
    issued = certificates()
    assert len(issued) == 5
    assert all(cert.status is CertificateStatus.VALID and cert.pdf_sha256 for cert in issued)
    assert len({cert.serial for cert in issued}) == 5
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "certificate.issue")
    ).all()
    assert len(events) == 5 and {e.actor_id for e in events} == {coordinator.id}
    assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id))) >= 5  # the e-mails

    done = client.get(c.url)
    assert "5 issued, 0 already had one, 1 not eligible." in flashes(done)
    assert 'data-testid="issue-run"' not in done.text
    assert 'http-equiv="refresh"' not in done.text
    assert 'data-testid="count-issued">5<' in done.text
    again = client.get(c.url)  # the summary is shown once
    assert "5 issued" not in text(again)


def test_at_most_the_inline_number_is_still_issued_at_once(
    client: FlaskClient, login: Any, make: Any, small_runs: None
) -> None:
    c = course(make, extra=1)  # 3 eligible: the limit
    coordinator_of(login, c.cohort)

    response = client.post(f"{c.url}/issue-all", follow_redirects=True)

    assert "3 issued, 0 already had one, 1 not eligible." in flashes(response)
    assert len(certificates()) == 3
    assert db.session.scalar(sa.select(sa.func.count(CertificateRun.id))) == 0


def test_a_second_issue_all_while_one_runs_is_refused_and_writes_nothing(
    client: FlaskClient, login: Any, make: Any, small_runs: None
) -> None:
    c = course(make, extra=3)
    coordinator_of(login, c.cohort)
    client.post(f"{c.url}/issue-all")

    response = client.post(f"{c.url}/issue-all", follow_redirects=True)

    assert "Certificates are already being issued to this cohort" in text(response)
    assert db.session.scalar(sa.select(sa.func.count(CertificateRun.id))) == 1
    assert certificates() == []


def test_issuing_before_the_end_still_needs_the_confirmation(
    client: FlaskClient, login: Any, make: Any, small_runs: None
) -> None:
    from datetime import date, timedelta

    c = course(make, extra=3)
    c.cohort.end_date = date.today() + timedelta(days=3)
    coordinator_of(login, c.cohort)

    refused = client.post(f"{c.url}/issue-all", follow_redirects=True)
    assert db.session.scalar(sa.select(sa.func.count(CertificateRun.id))) == 0
    assert "Issuing" not in " ".join(flashes(refused))

    client.post(f"{c.url}/issue-all", data={"confirm_before_end": "y"})
    while runs.work():
        pass
    assert len(certificates()) == 5


def test_a_run_that_cannot_go_on_says_why_and_keeps_what_was_issued(
    client: FlaskClient, login: Any, make: Any, small_runs: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    c = course(make, extra=3)
    coordinator_of(login, c.cohort)
    client.post(f"{c.url}/issue-all")
    assert runs.work() == 2

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk full")

    monkeypatch.setattr(runs.issuing, "issue_all_eligible", broken)
    assert runs.work() == 1
    assert runs.work() == 0  # stopped: not tried for ever

    page = client.get(c.url)
    assert (
        "Issuing stopped because of an unexpected error. Try again. "
        "2 certificates were issued before it stopped." in flashes(page)
    )
    assert len(certificates()) == 2
    assert 'data-testid="issue-all"' in page.text  # the rest can be issued again


def test_the_summary_goes_to_the_requester_only(
    client: FlaskClient, login: Any, make: Any, small_runs: None
) -> None:
    c = course(make, extra=3)
    coordinator_of(login, c.cohort)
    client.post(f"{c.url}/issue-all")
    while runs.work():
        pass
    colleague = coordinator_of(login, c.cohort)  # signs in as another coordinator
    assert colleague is not None

    page = client.get(c.url)

    assert "5 issued" not in text(page)
    run = db.session.scalars(sa.select(CertificateRun)).one()
    assert run.state is RunState.DONE and run.reported_at is None


def test_the_worker_loop_issues_a_whole_run_without_waiting_between_batches(
    app: Flask, make: Any, small_runs: None, committed_db: Any
) -> None:
    c = course(make, extra=3)
    user = make.user(Role.COORDINATOR)
    run = runs.issue_all(c.cohort, actor=user)
    assert isinstance(run, CertificateRun)
    db.session.commit()

    counts = worker.run(app, threading.Event(), once=True, poll=30)

    assert counts.jobs == 5  # 2 + 2 + 1 in one call: no 30-second wait between them
    db.session.expire_all()
    assert len(certificates()) == 5


def test_a_run_the_worker_does_not_take_says_the_worker_may_not_be_running(
    client: FlaskClient, login: Any, make: Any, small_runs: None
) -> None:
    from datetime import timedelta

    c = course(make, extra=3)
    coordinator_of(login, c.cohort)
    client.post(f"{c.url}/issue-all")
    assert 'data-testid="issue-run-stalled"' not in client.get(c.url).text

    run = db.session.scalars(sa.select(CertificateRun)).one()
    run.progress_at -= timedelta(minutes=6)
    db.session.commit()

    page = client.get(c.url)
    assert "the background worker may not be running" in text(page)
    assert runs.work() == 2  # a batch: no longer stalled
    assert 'data-testid="issue-run-stalled"' not in client.get(c.url).text
