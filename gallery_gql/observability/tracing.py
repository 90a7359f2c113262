"""Optional OpenTelemetry tracing (`pip install gallery-gql[tracing]`).

With `GALLERY_GQL_TRACING=true` every GraphQL operation, parse, validation and resolver
becomes a span (Strawberry's OpenTelemetryExtension). Spans go to the OTLP/HTTP endpoint
named by the standard `OTEL_EXPORTER_OTLP_ENDPOINT`, else to stderr.
"""

from __future__ import annotations

import os
from typing import Any


def tracing_extension() -> Any:
    """Strawberry's tracing extension class; ImportError without the `tracing` extra."""
    from strawberry.extensions.tracing import OpenTelemetryExtension

    return OpenTelemetryExtension


def configure_tracer_provider(service_name: str = "gallery-gql") -> None:
    """Install a global tracer provider with a batching exporter (served app only)."""
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    exporter: SpanExporter
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
