"""The audit trail's label tables: field names, the keys that name other records by id,
the keys holding stored enum values, and the kinds of object, in the reader's language.

A new key or kind of object recorded in ``changes`` needs an entry here (``rendering.py``
shows the events with them).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

# --- Field names ----------------------------------------------------------------------------

FIELD_LABELS: dict[str, Any] = {
    "name": _l("Name"),
    "title": _l("Title"),
    "code": _l("Code"),
    "description": _l("Description"),
    "kind": _l("Kind"),
    "status": _l("Status"),
    "reason": _l("Reason"),
    "start_date": _l("Start date"),
    "end_date": _l("End date"),
    "starts_at": _l("Starts"),
    "ends_at": _l("Ends"),
    "start_time": _l("Start time"),
    "end_time": _l("End time"),
    "opens_at": _l("Opens"),
    "closes_at": _l("Closes"),
    "pre_opens_at": _l("Test before the course opens"),
    "pre_closes_at": _l("Test before the course closes"),
    "timezone": _l("Time zone"),
    "venue": _l("Venue"),
    "city": _l("City"),
    "country": _l("Country"),
    "delivery_mode": _l("Delivery"),
    "mode": _l("Delivery"),
    "location": _l("Location"),
    "online_url": _l("Online link"),
    "capacity": _l("Capacity"),
    "language": _l("Language"),
    "locale": _l("Language"),
    "certificate_language": _l("Certificate language"),
    "default_certificate_language": _l("Certificate language"),
    "min_attendance_pct": _l("Minimum attendance (%)"),
    "default_min_attendance_pct": _l("Minimum attendance (%)"),
    "min_hours": _l("Minimum hours"),
    "default_min_hours": _l("Minimum hours"),
    "hours": _l("Hours"),
    "late_grace_minutes": _l("Late after (minutes)"),
    "first_name": _l("First name"),
    "last_name": _l("Last name"),
    "name_latin": _l("Name in Latin letters"),
    "email": _l("E-mail"),
    "sex": _l("Sex"),
    "organisation": _l("Organisation"),
    "position": _l("Position"),
    "phone": _l("Phone"),
    "notes": _l("Notes"),
    "role": _l("Role"),
    "roles": _l("Roles"),
    "active": _l("Active"),
    "anonymous": _l("Anonymous"),
    "required": _l("Required"),
    "weekdays": _l("Weekdays"),
    "interval_weeks": _l("Every (weeks)"),
    "count": _l("Number"),
    "rows": _l("Rows"),
    "created": _l("Created"),
    "updated": _l("Updated"),
    "enrolled": _l("Enrolled"),
    "waitlisted": _l("Waitlisted"),
    "unchanged": _l("Unchanged"),
    "skipped": _l("Skipped"),
    "file": _l("File"),
    "method": _l("How"),
    "source": _l("Source"),
    "logo": _l("Logo"),
    "signature": _l("Signature"),
    "corrections": _l("Corrections"),
    "person": _l("Person"),
    "note": _l("Note"),
    "public_note": _l("Note"),
    "superseded_by": _l("Superseded by"),
    "budget": _l("Budget"),
    "currency": _l("Currency"),
    "funding_share": _l("Funding share"),
    "european_union": _l("EU funded"),
    "target_countries": _l("Target countries"),
    "target_regions": _l("Target regions"),
    "competence_area": _l("Competence area"),
    "filters": _l("Filters"),
    "waitlist_position": _l("Place on the waiting list"),
    "attempts": _l("Attempts"),
    "sessions": _l("Sessions"),
    "people": _l("People"),
    "programmes": _l("Programmes"),
    "sign_ins": _l("Sign-ins"),
    "details": _l("Details"),
    "template": _l("Template"),
    "added": _l("Added"),
    "changed": _l("Changed"),
    "moved": _l("Moved"),
    "removed": _l("Removed"),
    "serial": _l("Serial number"),
    "certificate": _l("Certificate"),
    "override_reason": _l("Reason for issuing anyway"),
    "subject": _l("Name in the signing certificate"),
    "certificate_sha256": _l("Signing certificate fingerprint (SHA-256)"),
    "replaces": _l("Replaces key"),
    "fallback_font": _l("Fallback font"),
    "matched": _l("Matched to people in the directory"),
    "errors": _l("Rows with errors"),
    "what": _l("Exported"),
    "query": _l("Filters"),
    # ids, shown by name
    "module_id": _l("Module"),
    "required_module_ids": _l("Required modules"),
    "module_ids": _l("Modules"),
    "trainer_ids": _l("Trainers"),
    "person_id": _l("Person"),
    "duplicate_id": _l("Duplicate"),
    "cohort_id": _l("Cohort"),
    "parent_cohort_id": _l("Cohort it rolls out"),
    "programme_id": _l("Programme"),
    "programme_ids": _l("Programmes"),
    "session_id": _l("Session"),
    "session_ids": _l("Sessions"),
    "enrolment_id": _l("Enrolment"),
    "kept_enrolment_id": _l("Enrolment kept"),
    "user_id": _l("Account"),
    # a merge of two people (person.merge)
    "enrolments_moved": _l("Enrolments moved"),
    "attendance_moved_with_enrolments": _l("Attendance records moved with them"),
    "enrolments_merged": _l("Enrolments merged"),
    "dropped_enrolment_id": _l("Enrolment removed"),
    "dropped_status": _l("Status of the enrolment removed"),
    "attendance_moved": _l("Attendance records moved"),
    "attendance_dropped": _l("Attendance records removed"),
    "sessions_taught_moved": _l("Sessions taught moved"),
    "sessions_taught_already": _l("Sessions both taught"),
    "certificates_moved": _l("Certificates moved"),
    "user_moved": _l("Account moved"),
    "fields_filled": _l("Fields filled"),
    "notes_appended": _l("Notes appended"),
}

# Keys naming other records by id (one id or a list of ids) and the table they live in.
REFERENCES: dict[str, str] = {
    "module_id": "modules",
    "module_ids": "modules",
    "required_module_ids": "modules",
    "attended_module_ids": "modules",
    "trainer_ids": "people",
    "person_id": "people",
    "duplicate_id": "people",
    "cohort_id": "cohorts",
    "parent_cohort_id": "cohorts",
    "programme_id": "programmes",
    "programme_ids": "programmes",
    "session_id": "sessions",
    "session_ids": "sessions",
    "enrolment_id": "enrolments",
    "kept_enrolment_id": "enrolments",
    "dropped_enrolment_id": "enrolments",
    "enrolments_moved": "enrolments",
    "sessions_taught_moved": "sessions",
    "sessions_taught_already": "sessions",
    "certificates_moved": "certificates",
    "user_moved": "users",
    "user_id": "users",
}

# Keys whose values are stored enum values, shown with their labels.
# Keys whose value is a list of ids of records not shown one by one: shown as their number.
COUNTED_KEYS = frozenset({"attendance_moved"})

ENUM_KEYS = frozenset(
    {
        "status",
        "dropped_status",
        "kind",
        "mode",
        "delivery_mode",
        "sex",
        "language",
        "locale",
        "certificate_language",
        "default_certificate_language",
        "source",
        "role",
        "roles",
        "phase",
        "template",
    }
)


def field_label(key: Any) -> str:
    label = FIELD_LABELS.get(str(key))
    return str(label) if label is not None else str(key).replace("_", " ")


OBJECT_TYPE_LABELS: dict[str, Any] = {
    "programmes": _l("Programme"),
    "programme_partners": _l("Partner"),
    "modules": _l("Module"),
    "cohorts": _l("Cohort"),
    "sessions": _l("Session"),
    "enrolments": _l("Enrolment"),
    "attendance_records": _l("Attendance"),
    "people": _l("Person"),
    "users": _l("Account"),
    "certificates": _l("Certificate"),
    "audit_events": _l("Audit trail"),
    "signatories": _l("Signatory"),
    "organisation_settings": _l("Organisation"),
    "outbox_messages": _l("Message"),
    "evaluations": _l("Evaluation"),
    "signing_keys": _l("Signing key"),
}


def object_type_label(object_type: str) -> str:
    label = OBJECT_TYPE_LABELS.get(object_type)
    return str(label) if label is not None else object_type
