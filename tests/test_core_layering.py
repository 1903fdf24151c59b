"""``trainingmgr.core`` is the layer every domain builds on: its modules import no domain."""

from __future__ import annotations

import ast
from pathlib import Path

import trainingmgr

CORE = Path(trainingmgr.__file__).parent / "core"
ALLOWED = ("trainingmgr.core", "trainingmgr.extensions")


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at module level or lazily inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
    return names


def test_core_modules_import_no_domain() -> None:
    offenders = {
        f"{path.name}: {name}"
        for path in sorted(CORE.glob("*.py"))
        for name in _imports(path)
        if name.startswith("trainingmgr") and not name.startswith(ALLOWED)
    }
    assert offenders == set()


def test_roles_are_one_enum_shared_by_core_and_accounts() -> None:
    from trainingmgr.accounts.models import Role as AccountsRole
    from trainingmgr.core.roles import Role

    assert AccountsRole is Role
    assert [r.value for r in Role] == ["admin", "coordinator", "trainer", "participant"]


def test_the_user_core_checks_is_a_protocol_the_accounts_user_meets() -> None:
    """Core types the user it checks with ``RoleHolder`` (not ``Any``), and the accounts
    domain's ``User`` has every member of it."""
    import inspect

    from trainingmgr.accounts.models import User
    from trainingmgr.core import permissions, scope
    from trainingmgr.core.users import RoleHolder

    members = {
        name for name in vars(RoleHolder) if not name.startswith("_") and name not in vars(object)
    }
    assert members == {
        "is_authenticated",
        "stored_roles",
        "roles",
        "has_role",
        "coordinated_programme_ids",
    }
    assert all(hasattr(User, name) for name in members)
    untyped = [
        f"{module.__name__}.{name}"
        for module in (scope, permissions)
        for name, function in vars(module).items()
        if inspect.isfunction(function) and function.__module__ == module.__name__
        for parameter in inspect.signature(function).parameters.values()
        if parameter.name == "user" and "Visitor" not in str(parameter.annotation)
    ]
    assert untyped == []
