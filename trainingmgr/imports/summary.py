"""What an import did, in figures and in words."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext


@dataclass
class ImportSummary:
    """What an import did, row by row (``message`` says it in words)."""

    created: int = 0
    updated: int = 0
    enrolled: int = 0
    waitlisted: int = 0
    unchanged: int = 0
    matched: int = 0  # possible duplicates taken as the existing person
    skipped_duplicates: int = 0  # possible duplicates left out
    errors: int = 0  # rows with errors, left out
    already_enrolled: int = 0  # existing people chosen who were already in the cohort

    @property
    def skipped(self) -> int:
        return self.skipped_duplicates + self.errors

    @property
    def nothing(self) -> bool:
        return not (self.created or self.updated or self.enrolled or self.waitlisted)

    def message(self) -> str:
        """What really happened, in words: never "already there" for rows that were refused."""
        if self.nothing and not (self.skipped or self.matched or self.already_enrolled):
            return _("Nothing to import: every row is already in the directory as it is.")
        n = self
        counts = [
            (n.created, ngettext("%(num)d person created", "%(num)d people created", n.created)),
            (n.updated, ngettext("%(num)d person updated", "%(num)d people updated", n.updated)),
            (
                n.matched,
                ngettext(
                    "%(num)d possible duplicate taken as the existing person",
                    "%(num)d possible duplicates taken as the existing people",
                    n.matched,
                ),
            ),
            (n.enrolled, ngettext("%(num)d enrolled", "%(num)d enrolled", n.enrolled)),
            (n.waitlisted, ngettext("%(num)d waitlisted", "%(num)d waitlisted", n.waitlisted)),
            (
                n.already_enrolled,
                ngettext(
                    "%(num)d already enrolled", "%(num)d already enrolled", n.already_enrolled
                ),
            ),
            (n.unchanged, ngettext("%(num)d unchanged", "%(num)d unchanged", n.unchanged)),
            (
                n.skipped_duplicates,
                ngettext(
                    "%(num)d possible duplicate skipped",
                    "%(num)d possible duplicates skipped",
                    n.skipped_duplicates,
                ),
            ),
            (
                n.errors,
                ngettext(
                    "%(num)d row with errors skipped", "%(num)d rows with errors skipped", n.errors
                ),
            ),
        ]
        parts = ", ".join(text for number, text in counts if number)
        if self.nothing:
            return _("Nothing was imported: %(parts)s.", parts=parts)
        return _("Import done: %(parts)s.", parts=parts)
