"""Logs, metrics and request ids: how operators see into the gateway."""
