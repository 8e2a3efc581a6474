"""The test bed: synthetic cameras, a real Home Assistant, viewers, on loopback.

The tests, the demo (`scripts/develop`) and the benchmark (`scripts/bench`) all
need the same things around the integration: IP cameras that behave like the
cheap ones schools own, a real Home Assistant process driven only through its
APIs, police viewers, and the child processes and ports all of that takes.
They once had three camera implementations and two copies of the process and
port helpers, which drifted apart; this package is the one home, and none of
it imports the integration (it talks to it over HTTP, as a school would).

- `testbed.errors`: what goes wrong, said so that a person can act on it.
- `testbed.net`: the loopback interface, free ports, waiting for a listener.
- `testbed.spawn`: child processes that never outlive the one that started them.
- `testbed.procfs`: processes, descriptors and sockets, read from /proc.
- `testbed.stamp`: a frame's send time, painted into its pixels and read back.
- `testbed.cameras`: synthetic cameras (MJPEG over HTTP; H.264 over RTSP and
  over HTTP), one in its own process.
- `testbed.hass`: a Home Assistant process, onboarding, a REST/WebSocket client.
- `testbed.deployment`: one agreement in a real Home Assistant, set up and
  driven through its APIs.
- `testbed.viewers`: MJPEG viewers that count parts and read stamps.
"""
