"""Every setting in one typed object, read from the environment (and an optional .env)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, PrivateAttr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gallery_gql.secret_file import check_secret, read_or_create_secret


class Settings(BaseSettings):
    """Runtime configuration. Variables are prefixed GALLERY_GQL_ except DATABASE_URL."""

    model_config = SettingsConfigDict(
        env_prefix="GALLERY_GQL_", env_file=".env", extra="ignore", populate_by_name=True
    )

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "GALLERY_GQL_DATABASE_URL"),
        description="SQLAlchemy URL of an existing database; unset → the embedded cluster.",
    )
    database_replica_urls: str = Field(
        default="",
        validation_alias=AliasChoices("DATABASE_REPLICA_URLS", "GALLERY_GQL_DATABASE_REPLICA_URLS"),
        description="Comma-separated URLs of streaming replicas of DATABASE_URL: reads go "
        "to them (db/routing.py); unset → the embedded cluster's running replicas, if any.",
    )
    replica_max_lag_ms: float = Field(
        default=1000.0,
        gt=0,
        description="Replicas further behind the primary than this serve no reads.",
    )
    replica_poll_interval_ms: float = Field(
        default=100.0,
        gt=0,
        le=60_000,
        description="How often each worker reads every replica's replay position.",
    )
    consistency_window_seconds: float = Field(
        default=30.0,
        ge=0,
        description="How long a viewer's reads follow their last write (read-your-writes).",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "GALLERY_GQL_REDIS_URL"),
        description="Redis shared by every host (rate limits, read-your-writes positions); "
        "unset → kept per process. Setting it requires an explicit secret.",
    )
    redis_prefix: str = Field(
        default="gallery-gql",
        min_length=1,
        max_length=64,
        description="Prefix of every Redis key: deployments sharing a Redis keep apart.",
    )
    home: Path = Field(
        default=Path(".gallery-gql"),
        description="Where the embedded cluster and the generated secret live.",
    )
    secret: str | None = Field(
        default=None,
        description="Key signing tokens and cursors (at least 32 bytes); unset → generated "
        "once under `home`.",
    )
    environment: Literal["development", "production"] = "development"
    jwt_audience: str = "gallery-gql"
    jwt_issuer: str = "gallery-gql"
    token_ttl_seconds: int = 7 * 24 * 3600
    default_page_size: int = 25
    max_page_size: int = 100
    max_filter_tags: int = 20
    count_cap: int = 1000
    tag_stats_ttl_seconds: float = 30.0
    """How long a process reuses a filter tag's key and counts (gallery/tag_stats.py)."""
    live_max_subscriptions_per_connection: int = Field(
        default=16, ge=1, description="Live subscriptions one WebSocket may hold."
    )
    live_max_subscriptions_per_worker: int = Field(
        default=2000, ge=1, description="Live subscriptions one worker process serves."
    )
    live_queue_size: int = Field(
        default=1000,
        ge=1,
        description="Events a live subscription may fall behind before its WebSocket is "
        "closed (code 1013). One bulk write sends up to 500 at once: keep it above that. "
        "A worker holds at most this many deliveries per subscription (72 bytes each at most).",
    )
    live_ping_seconds: float = Field(
        default=15.0, gt=0, description="graphql-transport-ws pings on an idle WebSocket."
    )
    max_body_bytes: int = 1024 * 1024
    max_response_bytes: int = Field(
        default=8 * 1024 * 1024,
        description="A GraphQL response body; larger → a `RESPONSE_TOO_LARGE` error instead.",
    )
    max_header_bytes: int = Field(
        default=16 * 1024, description="Request line and headers, per request (→ 431)."
    )
    header_timeout_seconds: float = Field(
        default=10.0, description="From connecting (or a request's first byte) to its headers."
    )
    body_timeout_seconds: float = Field(
        default=10.0, description="Reading a request's body (→ 408 `TIMEOUT`)."
    )
    max_connections: int = Field(
        default=1000,
        description="Connections and requests in flight per worker; beyond → 503 at once.",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of the proxies whose X-Forwarded-For names the "
        "client (for the rate limit and logs); empty → the peer's address, headers ignored.",
    )
    max_depth: int = 10
    max_aliases: int = 15
    max_tokens: int = 2000
    max_query_cost: int = 50_000
    introspection: bool | None = Field(
        default=None, description="Schema introspection; unset → on in development only."
    )
    graphiql: bool | None = Field(
        default=None, description="The GraphiQL page; unset → on in development only."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    metrics_token: str | None = Field(
        default=None,
        description="Bearer token a scraper sends for `/metrics` (at least 32 bytes); unset → "
        "`/metrics` answers 404.",
    )
    metrics_operations: list[str] = Field(
        default_factory=list,
        description="Operation names counted under their own name in the metrics, besides "
        "the bundled clients' (observability/metrics.py); any other name is `other`.",
    )
    tracing: bool = Field(
        default=False, description="OpenTelemetry spans per operation (needs the extra)."
    )
    rate_limit: str = Field(
        default="600/minute",
        description="Requests per client (IP address) per window, e.g. `600/minute`; "
        "`` turns it off. Enforced per worker process.",
    )
    id_miss_limit: str = Field(
        default="60/minute",
        description="Lookups by id (`contentItem`, `node`) per client that find nothing "
        "visible, e.g. `60/minute`; beyond → `RATE_LIMITED`. `` turns it off. Per worker.",
    )
    pool_size: int = 20
    pool_max_overflow: int = 10
    pool_timeout_seconds: float = 2.0
    statement_timeout_ms: int = 3000
    """How long one read statement may run (SQLSTATE 57014 past it)."""
    write_statement_timeout_ms: int = 5000
    """How long one statement of a write transaction may run."""
    lock_timeout_ms: int = 1000
    """How long a write waits for a row lock before failing (SQLSTATE 55P03)."""
    connect_timeout_seconds: float = 5.0
    request_deadline_seconds: float = 10.0
    media_root: Path | None = Field(
        default=None,
        description="Directory served at `/media/` (thumbnail URLs point under it); "
        "unset → no `/media/` route.",
    )
    media_base_url: str | None = Field(
        default=None,
        description="Public http(s) base URL of the media (a CDN); thumbnail URLs are it "
        "+ the stored path. Wins over `media_root` for URLs.",
    )
    media_max_age_seconds: int = Field(
        default=365 * 24 * 3600,
        ge=0,
        description="`Cache-Control: max-age` of files served under `/media/`.",
    )

    @field_validator("media_base_url")
    @classmethod
    def _absolute_base_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query:
            raise ValueError(
                "must be an absolute http(s) URL without a query, e.g. "
                "https://cdn.example.com/gallery"
            )
        if parts.fragment:
            raise ValueError("must not carry a #fragment")
        return value.rstrip("/")

    @property
    def media_url_prefix(self) -> str | None:
        """What `thumbnail` puts before a stored path: the CDN's base URL, else this
        server's `/media/` route when it serves a media root, else nothing (paths as
        stored)."""
        if self.media_base_url:
            return self.media_base_url + "/"
        if self.media_root is not None:
            return "/media/"
        return None

    @model_validator(mode="after")
    def _shared_state_needs_shared_secret(self) -> Settings:
        if self.redis_url and not self.secret:
            raise ValueError(
                "REDIS_URL shares state between hosts, which must also share the signing "
                "secret: set GALLERY_GQL_SECRET (the one generated under GALLERY_GQL_HOME "
                "only exists on this host)"
            )
        return self

    @model_validator(mode="after")
    def _lag_bound_above_polls(self) -> Settings:
        if self.replica_max_lag_ms <= 2 * self.replica_poll_interval_ms:
            raise ValueError(
                "GALLERY_GQL_REPLICA_MAX_LAG_MS must exceed twice "
                "GALLERY_GQL_REPLICA_POLL_INTERVAL_MS: a replica caught up at one poll "
                "looks one interval old by the next"
            )
        return self

    @property
    def replica_urls(self) -> list[str]:
        """DATABASE_REPLICA_URLS as a list."""
        return [url.strip() for url in self.database_replica_urls.split(",") if url.strip()]

    @property
    def introspection_enabled(self) -> bool:
        if self.introspection is None:
            return self.environment == "development"
        return self.introspection

    @property
    def graphiql_enabled(self) -> bool:
        if self.graphiql is None:
            return self.environment == "development"
        return self.graphiql

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        return None if value is None else check_secret(value, "GALLERY_GQL_SECRET")

    @field_validator("metrics_token")
    @classmethod
    def _token_long_enough(cls, value: str | None) -> str | None:
        return None if value is None else check_secret(value, "GALLERY_GQL_METRICS_TOKEN")

    _generated_secret: str | None = PrivateAttr(default=None)

    def signing_secret(self) -> str:
        """The configured secret, or the one generated once and kept under `home`
        (gallery_gql/secret_file.py). Read once per Settings: it signs every cursor and
        token on the request path. `serve` calls it before forking workers."""
        if self.secret is not None:
            return self.secret
        if self._generated_secret is None:
            self._generated_secret = read_or_create_secret(self.home / "secret")
        return self._generated_secret


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
