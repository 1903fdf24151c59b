"""Human labels for stored enum values, translated when rendered."""

from __future__ import annotations

import enum
from typing import Any

import pycountry
from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

LABELS: dict[str, Any] = {
    # roles
    "admin": _l("Administrator"),
    "coordinator": _l("Coordinator"),
    "trainer": _l("Trainer"),
    "participant": _l("Participant"),
    # sex
    "female": _l("Female"),
    "male": _l("Male"),
    "other": _l("Other"),
    "undisclosed": _l("Prefers not to say"),
    # programme kinds and statuses
    "diploma": _l("Diploma programme"),
    "online_course": _l("Online course"),
    "training_of_trainers": _l("Training of trainers"),
    "rollout": _l("National roll-out"),
    "workshop": _l("Workshop"),
    "active": _l("Active"),
    "archived": _l("Archived"),
    "partner": _l("Partner"),
    "funder": _l("Funder"),
    # languages
    "en": _l("English"),
    "ru": _l("Russian"),
    "az": _l("Azerbaijani"),
    "en+ru": _l("English and Russian"),
    "en+az": _l("English and Azerbaijani"),
    # delivery and statuses
    "in_person": _l("In person"),
    "online": _l("Online"),
    "hybrid": _l("Hybrid"),
    "planned": _l("Planned"),
    "open": _l("Open"),
    "closed": _l("Closed"),
    "scheduled": _l("Scheduled"),
    "cancelled": _l("Cancelled"),
    "applied": _l("Applied"),
    "enrolled": _l("Enrolled"),
    "waitlisted": _l("Waitlisted"),
    "withdrawn": _l("Withdrawn"),
    "completed": _l("Completed"),
    "not_completed": _l("Not completed"),
    # attendance
    "present": _l("Present"),
    "late": _l("Late"),
    "excused": _l("Excused"),
    "absent": _l("Absent"),
    "roster": _l("Roster"),
    "check_in": _l("Self check-in"),
    "import": _l("Import"),
    # certificates
    "valid": _l("Valid"),
    "revoked": _l("Revoked"),
    "superseded": _l("Superseded"),
    # e-mail
    "pending": _l("Pending"),
    "sent": _l("Sent"),
    "failed": _l("Failed"),
    # kinds of e-mail (mail.outbox.KINDS)
    "sign_in_link": _l("Sign-in link"),
    "enrolment_confirmation": _l("Enrolment confirmation"),
    "waitlist_place": _l("Place on the waitlist"),
    "session_changed": _l("Session changed"),
    "certificate_issued": _l("Certificate issued"),
    # one-time links (and e-mails: invitation, password_reset)
    "sign_in": _l("Sign-in link"),
    "invitation": _l("Invitation"),
    "password_reset": _l("Password reset link"),
    # signing keys
    "generated": _l("Generated"),
    "uploaded": _l("Uploaded"),
    # evaluations
    "survey": _l("End-of-course survey"),
    "test": _l("Knowledge test"),
    "pre": _l("Test before the course"),
    "post": _l("Test after the course"),
    "rating": _l("Rating from 1 to 5"),
    "choice": _l("Multiple choice"),
    "text": _l("Free text"),
}


def label_for(value: enum.Enum | str | None) -> Any:
    """The translated label of a stored value; the value itself when none is known."""
    if value is None:
        return ""
    key = value.value if isinstance(value, enum.Enum) else str(value)
    return LABELS.get(key, key)


def country_label(code: str | None) -> str:
    """The name of an ISO 3166 alpha-2 country code in the reader's language (Babel's
    territory names: "AZ" is "Azerbaijan", "Азербайджан", "Azərbaycan"); the English name
    or the code itself when Babel has none."""
    if not code:
        return ""
    code = code.upper()
    locale = _current_locale()
    name = locale.territories.get(code) if locale is not None else None
    if name:
        return str(name)
    country = pycountry.countries.get(alpha_2=code)
    return str(getattr(country, "common_name", None) or getattr(country, "name", code))


def _current_locale() -> Locale | None:
    try:
        return get_locale() or Locale("en")
    except RuntimeError:  # outside a request
        return Locale("en")
