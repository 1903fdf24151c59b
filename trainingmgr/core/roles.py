"""The roles a user may hold. Defined in core, which every domain may import, so that the
access rules (``core.permissions``, ``core.scope``) need no domain; ``accounts.models``
re-exports it as the accounts domain's ``Role``."""

from __future__ import annotations

from trainingmgr.core.types import Choice


class Role(Choice):
    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TRAINER = "trainer"
    PARTICIPANT = "participant"
