"""The schema as SDL text, as committed in schema.graphql."""

from __future__ import annotations

from gallery_gql.api.schema import build_schema
from gallery_gql.settings import Settings


def schema_sdl() -> str:
    """The SDL, which does not depend on settings (limits are not part of it)."""
    return build_schema(Settings(environment="development")).as_str() + "\n"
