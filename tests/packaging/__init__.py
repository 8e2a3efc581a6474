"""Packaging: the dashboard, HACS and Home Assistant loader rules, brand images."""
