"""Accounts administration: the accounts list, changing roles, programmes, the linked person
record and activation, and invitations.

Rules kept here:

- Accounts are never deleted; they are deactivated (which also ends their open sessions and
  makes every e-mailed link useless, by bumping the auth version).
- The last active administrator cannot lose the role nor be deactivated. The check locks the
  administrators' rows (``FOR UPDATE`` on PostgreSQL) so two administrators demoting each
  other at the same moment cannot both succeed.
- One person record belongs to at most one account.
- An administrator may invite administrators, coordinators and trainers; a coordinator may
  invite trainers, for the programmes they coordinate.

Services do not commit; views do.

The code is split by concern: ``listing`` (the accounts list), ``account`` (one account's
page and linked person), ``roles`` (roles, programmes, activation) and ``invitations``; this
module re-exports every public name.
"""

from __future__ import annotations

from trainingmgr.admin.account import (
    EVENT_LABELS,
    PersonCandidate,
    account_events,
    event_label,
    get_account,
    link_person,
    open_invitation_until,
    person_candidates,
)
from trainingmgr.admin.invitations import (
    INVITATION_LIFETIME,
    InvitationData,
    grantable_roles,
    invitable_programmes,
    invite,
    resend_invitation,
)
from trainingmgr.admin.listing import (
    STATUS_FILTERS,
    AccountFilter,
    AccountRow,
    AccountStatus,
    account_list,
    account_query,
    account_status,
    programme_options,
    programmes_taught,
)
from trainingmgr.admin.roles import set_active, update_account
from trainingmgr.programmes.models import Programme

__all__ = [
    "AccountFilter",
    "AccountRow",
    "AccountStatus",
    "EVENT_LABELS",
    "INVITATION_LIFETIME",
    "InvitationData",
    "PersonCandidate",
    "Programme",
    "STATUS_FILTERS",
    "account_events",
    "account_list",
    "account_query",
    "account_status",
    "event_label",
    "get_account",
    "grantable_roles",
    "invitable_programmes",
    "invite",
    "link_person",
    "open_invitation_until",
    "person_candidates",
    "programme_options",
    "programmes_taught",
    "resend_invitation",
    "set_active",
    "update_account",
]
