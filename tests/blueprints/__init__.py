"""The shipped blueprints, run through Home Assistant's blueprint machinery."""
