"""Promotion cycles: phases, cases, assessments, calibration, decisions and the decision log."""
