"""The schema as SDL text, as committed in schema.graphql."""

from __future__ import annotations

from gallery_gql.api.schema import schema


def schema_sdl() -> str:
    return schema.as_str() + "\n"
