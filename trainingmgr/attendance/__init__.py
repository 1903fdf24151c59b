"""Attendance: one record per session and enrolment."""
