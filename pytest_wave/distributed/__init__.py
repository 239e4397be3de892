"""One wave on several machines: xdist remote workers (``--tx socket=`` / ``ssh=``), git for results.

- :mod:`.checkout` runs on a host (sent over the execnet gateway) and prepares its clone at the base commit;
- :mod:`.gitops` commits an agent's work on its own branch, pushes it, and merges branches on the controller;
- :mod:`.carry` puts a remote attempt's result and log into its pytest report, and writes them on the controller;
- :mod:`.plugin` wires these into pytest-xdist's hooks (controller and remote worker sides).
"""
