"""Trace bundles: one hermetic folder per wave attempt, and their read-only replay.

* :mod:`pytest_wave.traces.bundle`: the manifest (:class:`~pytest_wave.traces.bundle.TraceManifest`,
  ``traceVersion`` 2), loading and integrity checks.
* :mod:`pytest_wave.traces.capture`: writes a bundle from a run's state.
* :mod:`pytest_wave.traces.derived`: quality, timeline, budgets, closure summary (shared by capture and replay).
* :mod:`pytest_wave.traces.recompute`: recomputes every gate from a bundle alone and compares.
* :mod:`pytest_wave.traces.replay`: the ``--wave-replay`` collectors and items.
* :mod:`pytest_wave.traces.sink`: the controller plugin that writes a bundle after every attempt.
"""
