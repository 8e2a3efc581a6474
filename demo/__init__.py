"""The demo district and the pieces that run it.

`scripts/develop` runs `python -m demo`: synthetic IP cameras of two schools, a
real Home Assistant with this repository's integration, onboarding and the
district set up through Home Assistant's own APIs.

The modules are reusable on their own (a benchmark or real-Home-Assistant tests
import them):

- `demo.processes`: child processes that never outlive the one that started them.
- `demo.cameras`: synthetic MJPEG-over-HTTP and H.264-over-RTSP cameras.
- `demo.hass`: start and stop a real Home Assistant, onboarding, a small REST
  and WebSocket client.
- `demo.district`: the demo district and how it is put into Home Assistant.
- `demo.blueprints`: automations from the integration's blueprints.
- `demo.develop`: the supervisor behind `scripts/develop`.
"""
