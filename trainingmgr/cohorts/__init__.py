"""Cohorts, their sessions and enrolments."""
