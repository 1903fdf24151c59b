"""Organisation settings: name, logo, default signatories, language and time zone."""
