"""People: participants and trainers, modelled once."""
