"""The people domain's signals: named hooks that other domains answer in their own ``hooks``
module (``trainingmgr.HOOKS``), so that no domain writes into another's tables.

A merge of two person records (``people.merge.merge_people``) sends, in this order and inside
the merge's transaction, with the ``MergePlan`` as sender:

1. ``enrolment_rows_merging``: where both records were enrolled in one cohort, the rows that
   hang on the enrolment being dropped move to the kept one or go (attendance: moved for the
   sessions the kept enrolment has no record of, deleted otherwise; certificates: moved);
2. ``enrolments_merging``: the dropped enrolments are deleted and the duplicate's others move
   to the kept person (enrolments);
3. ``person_merging``: everything else of the duplicate moves to the kept person (sessions
   taught, certificates, the user account).

A receiver takes ``(plan)`` and raises ``DomainError`` to refuse (the merge is rolled back).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

enrolment_rows_merging = _signals.signal("people.enrolment-rows-merging")
enrolments_merging = _signals.signal("people.enrolments-merging")
person_merging = _signals.signal("people.person-merging")
