"""Shared test helpers: Home Assistant fixtures, a virtual clock.

The cameras, Home Assistant processes and viewers the tests run against are
in `testbed`, which the demo and the benchmark share.
"""
