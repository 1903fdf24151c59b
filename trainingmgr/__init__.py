"""trainingmgr: run capacity-building training programmes.

``create_app`` builds the Flask application: configuration, extensions, blueprints,
command-line commands and error pages.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from flask import Flask, has_request_context, request
from flask_login import current_user

from trainingmgr.config import ROOT, load_config
from trainingmgr.core import sqlite as _sqlite  # noqa: F401  (SQLite settings per connection)
from trainingmgr.extensions import babel, csrf, db, limiter, login_manager, migrate

# Import every model module so metadata (and Alembic) sees the whole schema.
from trainingmgr.accounts import models as _accounts_models  # noqa: F401  isort: skip
from trainingmgr.people import models as _people_models  # noqa: F401  isort: skip
from trainingmgr.programmes import models as _programmes_models  # noqa: F401  isort: skip
from trainingmgr.cohorts import models as _cohorts_models  # noqa: F401  isort: skip
from trainingmgr.attendance import models as _attendance_models  # noqa: F401  isort: skip
from trainingmgr.certificates import models as _certificates_models  # noqa: F401  isort: skip
from trainingmgr.audit import models as _audit_models  # noqa: F401  isort: skip
from trainingmgr.organisation import models as _organisation_models  # noqa: F401  isort: skip
from trainingmgr.mail import models as _mail_models  # noqa: F401  isort: skip
from trainingmgr.imports import models as _imports_models  # noqa: F401  isort: skip
from trainingmgr.evaluations import models as _evaluations_models  # noqa: F401  isort: skip
from trainingmgr.credentials import models as _credentials_models  # noqa: F401  isort: skip

# Domains whose ``hooks`` module registers with core (the URL arguments and rules of the scope
# check, receivers of other domains' signals such as a merge of two people). Imported here,
# with the models, so that every use of the package has them; a missing one is an error.
HOOKS = (
    "accounts",
    "people",
    "programmes",
    "cohorts",
    "enrolments",
    "attendance",
    "certificates",
    "organisation",
    "evaluations",
)
for _domain in HOOKS:
    importlib.import_module(f"trainingmgr.{_domain}.hooks")


# Domains whose ``views.bp`` blueprint is registered, in this order. Every one must exist:
# a missing module or a module without ``bp`` stops the application from starting.
DOMAINS = (
    "accounts",
    "home",
    "programmes",
    "cohorts",
    "people",
    "enrolments",
    "imports",
    "attendance",
    "certificates",
    "evaluations",
    "credentials",
    "verification",
    "portal",
    "mail",
    "reports",
    "admin",
    "organisation",
    "audit",
    "ops",
)


def _select_locale() -> str | None:
    from flask import current_app

    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # services called from the CLI or from tests
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    # Keep the browser's region ("en-GB") so dates and times follow its conventions;
    # translations fall back to the language ("en").
    for tag, _quality in request.accept_languages:
        language = tag.split("-")[0].lower()
        if language in languages:
            try:
                return str(Locale.parse(tag, sep="-"))
            except (ValueError, UnknownLocaleError):
                return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def _register_blueprints(app: Flask) -> None:
    """Register ``trainingmgr.<name>.views.bp`` for every name in ``DOMAINS``; a missing
    module or blueprint is an error at start-up, never a silently absent feature."""
    for name in DOMAINS:
        views = importlib.import_module(f"trainingmgr.{name}.views")
        blueprint = getattr(views, "bp", None)
        if blueprint is None:
            raise RuntimeError(f"trainingmgr.{name}.views defines no blueprint `bp`")
        app.register_blueprint(blueprint)


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides settings read from the environment."""
    settings = load_config(config)
    from trainingmgr.ops import database

    app = database.RetryingFlask(
        __name__,
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(settings)
    from trainingmgr.core.urls import DatabaseId

    app.url_map.converters["int"] = DatabaseId  # a too large id: 404, before any query
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    from trainingmgr.ops import security

    security.init_app(app)  # security headers; X-Forwarded-* from TRUSTED_PROXY_COUNT proxies

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    login_manager.init_app(app)

    from trainingmgr.accounts import auth

    auth.init_login(app)

    _register_blueprints(app)

    from trainingmgr.core.scope import check_request_scope

    app.before_request(check_request_scope)  # coordinators: 404 for other programmes' ids

    from trainingmgr import errors, templating

    errors.register(app)
    database.register(app)  # 503 with Retry-After when the database cannot be reached
    templating.register(app)

    from trainingmgr.cli import register as register_cli

    register_cli(app)
    importlib.import_module("trainingmgr.mail.worker").maybe_start(app)  # under `make run`

    from trainingmgr.core.permissions import undeclared_endpoints

    missing = undeclared_endpoints(app)
    if missing:
        raise RuntimeError(f"views without an access rule: {', '.join(missing)}")
    return app
