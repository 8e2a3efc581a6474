"""Measuring instruments: the proxy benchmark (`python -m bench`, `scripts/bench`).

- `stamp`: the send time written into a frame's pixels, and read back.
- `camera`: a synthetic MJPEG camera (its own process) that stamps its frames
  and counts its connections.
- `procs`: CPU, memory and descriptors of a process and its children, from /proc.
- `viewers`: MJPEG viewers that count parts and sample latency cheaply.
- `harness`: a real Home Assistant with cameras and one agreement, also used by
  `tests/realhass`.
- `run`: the benchmark itself; `results`: what a run measured; `report`: its
  table and CSV (reads `results`, not `run`).
"""
