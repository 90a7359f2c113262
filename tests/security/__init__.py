"""Replays of an attack from outside against production defaults, one module per finding
(each module's docstring names it); docs/reliability.md's threat model maps every control
to its test here."""
