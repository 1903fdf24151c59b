"""Building blocks shared by every domain: column types, time helpers, errors, permissions."""
