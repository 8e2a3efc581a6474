"""Shared test helpers: local cameras, clients, Home Assistant processes."""
