"""The audit trail: an append-only log of who changed what."""
