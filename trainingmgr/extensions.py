"""Flask extensions, created once and bound to the app in ``create_app``."""

from typing import Any

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import Column, ForeignKey, Index, MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def postgresql_only(index: Index) -> Index:
    """``index`` exists on PostgreSQL only (a GIN trigram index, say): created there by
    ``create_all`` and the migrations, and not compared with the schema elsewhere."""
    index.info["dialects"] = ("postgresql",)
    return index.ddl_if(dialect="postgresql")


def include_object_for(dialect: str) -> Any:
    """Alembic's ``include_object`` on ``dialect``: leaves out what exists only elsewhere."""

    def include_object(obj: Any, _name: Any, _type: Any, _reflected: Any, _other: Any) -> bool:
        dialects = getattr(obj, "info", {}).get("dialects")
        return dialects is None or dialect in dialects

    return include_object


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)


def on_postgresql() -> bool:
    """Whether this request's database is PostgreSQL (else SQLite): for the few statements
    written for each."""
    return bool(db.session.get_bind().dialect.name == "postgresql")


def link_table(
    name: str, owner: tuple[str, str], other: tuple[str, str], *, other_ondelete: str = "CASCADE"
) -> Table:
    """A many-to-many table of two foreign keys, each ``(column, "table.id")``, that together
    are its primary key: deleting the owner deletes its links (``other_ondelete`` says what
    deleting the other does), and the other's column is indexed."""
    owner_column, owner_key = owner
    other_column, other_key = other
    return Table(
        name,
        db.metadata,
        Column(owner_column, ForeignKey(owner_key, ondelete="CASCADE"), primary_key=True),
        Column(other_column, ForeignKey(other_key, ondelete=other_ondelete), primary_key=True),
        Index(f"ix_{name}_{other_column}", other_column),
    )


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# Limits are declared on the views that need them (sign-in, links, verification); storage is
# RATELIMIT_STORAGE_URI (memory:// by default, redis://... when several processes serve).
limiter = Limiter(key_func=get_remote_address, default_limits=[])
