"""The proxy benchmark (`python -m bench`, `scripts/bench`).

- `run`: the benchmark itself: a real Home Assistant, a stamped camera in its
  own process, viewers through this integration's proxy and core's.
- `results`: what a run measured.
- `report`: the table (as printed and pasted into README.md) and the CSV.

The camera, Home Assistant, the viewers and the /proc readings come from
`testbed`, which the tests and the demo share.
"""
