"""Figures shared by the report and the dashboard (no statistics inside: every builder draws a result object)."""
