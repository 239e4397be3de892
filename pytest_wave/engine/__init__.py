"""The wave engine: plain Python (no pytest imports) that runs agents, checks proof and closes waves."""
