"""Promotion pages: cycles and cases, assessments, calibration sessions, records."""
