"""pytest-wave: run a wave of AI coding agents as a pytest session."""

__version__ = "0.1.0"
