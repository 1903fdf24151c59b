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

Planning a merge (``people.merge.plan_merge``) writes nothing and reads other domains' rows
through them too:

- ``merge_elsewhere``: sent with the duplicate's id and ``programme_ids`` (a coordinator's);
  a receiver returns the SQL condition "takes part in a programme not in these" for its
  rows (enrolled, teaching); the people domain asks all of them in one query;
- ``person_merge_planning``: each domain adds to the plan what of the two records it holds
  (the user account, sessions taught, enrolments moved and the cohorts both are enrolled
  in, certificates), or refuses with ``DomainError`` (two user accounts);
- ``enrolment_rows_merge_planning``: then, the rows hanging on those enrolments
  (attendance records moved, and, where both were enrolled, moved or dropped; certificates
  of the dropped enrolment superseded by the kept one's).

``addresses_given`` is sent (``people.services.addresses_given``) with the ids of people who
were just given an e-mail address (added with one, changed to one, imported) and
``actor``: the accounts domain links each account with that address and no person record to
its person, so that someone invited before being in the directory gets their sessions and
enrolments once a coordinator adds them.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

enrolment_rows_merging = _signals.signal("people.enrolment-rows-merging")
enrolments_merging = _signals.signal("people.enrolments-merging")
person_merging = _signals.signal("people.person-merging")

merge_elsewhere = _signals.signal("people.merge-elsewhere")
person_merge_planning = _signals.signal("people.person-merge-planning")
enrolment_rows_merge_planning = _signals.signal("people.enrolment-rows-merge-planning")

addresses_given = _signals.signal("people.addresses-given")
