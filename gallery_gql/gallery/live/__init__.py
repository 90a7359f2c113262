"""Live subscriptions to content writes: one hub per worker (hub.py)."""
