"""The pytest-wave planner: project profile, wave draft specs, forward replanning and ad-hoc waves.

It builds on :mod:`pytest_wave.model` (and the parser, renderer and lint that work on it), never on the
pytest layer: the ``wave`` command and the pytest plugin both call into it.
"""
