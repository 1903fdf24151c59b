"""The audit trail: an append-only log of who changed what.

Importing the package installs the guard that refuses, in every ORM session, to change or
delete recorded events (``services.protect_audit_trail``).
"""

from trainingmgr.audit.services import protect_audit_trail

protect_audit_trail()
