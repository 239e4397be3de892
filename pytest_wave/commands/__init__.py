"""Subcommands of the ``wave`` CLI that live in their own modules; each exposes ``register(subparsers)``."""
