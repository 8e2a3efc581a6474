"""The demo district and the pieces that run it.

`scripts/develop` runs `python -m demo`: synthetic IP cameras of two schools, a
real Home Assistant with this repository's integration, onboarding and the
district set up through Home Assistant's own APIs.

The cameras, the Home Assistant process and its API client come from
`testbed`, which the tests and the benchmark share; what is here is the demo's
own:

- `demo.district`: the demo district and how it is put into Home Assistant.
- `demo.blueprints`: automations from the integration's blueprints.
- `demo.develop`: the supervisor behind `scripts/develop`.
"""
