"""Tests for School Emergency Share."""
