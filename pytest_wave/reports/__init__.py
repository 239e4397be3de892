"""Reports people read: properties for junitxml/reportlog, the HTML report, live progress, surfaces.

Each sink is one small plugin object registered on the controller only (never on an xdist worker),
in the manner of pytest-reportlog, by :mod:`pytest_wave.reports.plugin`. The closure table itself
is printed by the controller (:mod:`pytest_wave.reports.closure_table`); ``wave dashboard`` lives in
:mod:`pytest_wave.commands.dashboard`.
"""
