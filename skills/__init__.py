"""pytest-wave's starter skill bundles (``<id>/skill.json``, ``SKILL.md``, ``adapters/<runtime>.md``).

A package only so the bundles install as package data next to ``pytest_wave``; there is no code here.
"""
