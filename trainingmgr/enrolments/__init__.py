"""Enrolment of people into cohorts: statuses, capacity and the waitlist."""
