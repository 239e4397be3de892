"""Agent runtimes pytest-wave can launch, including the built-in deterministic ``local`` executor."""
