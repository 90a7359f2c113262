"""The compiled path: a query document the compiler understands is parsed, validated and
planned once per process (an LRU by text and operation name), then each request only
coerces its variables, checks page sizes and cost, reads, and writes `data` from the
rows (api/documents/gallery_plans.py).

Only the error-free answer is produced here. Whatever else could happen (a variable that
does not coerce, a page size out of bounds, a cost over budget, an argument the resolver
refuses, a database failure, a null the schema forbids) returns None, and the general
executor answers the request from the start, so errors are the executor's own, byte for
byte. The compiled path reads nothing it would have to undo: a fallback only repeats
reads (and the request's loaders keep what they read).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.execution.values import get_variable_values
from strawberry.types import ExecutionResult

from gallery_gql.api.context import GalleryContext
from gallery_gql.api.cost import cached_operation_cost
from gallery_gql.api.documents.gallery_plans import connection_plan, item_lookup_plan
from gallery_gql.api.documents.lru import LRU
from gallery_gql.api.documents.plans import BoundVariables, Compiler, Unsupported
from gallery_gql.api.documents.tag_plans import tag_list_plan
from gallery_gql.api.operation_resolution import operation_problem
from gallery_gql.api.paging import page_size_errors
from gallery_gql.api.schema import GallerySchema
from gallery_gql.api.validation import validated
from gallery_gql.settings import Settings

log = logging.getLogger("gallery_gql.compiled")

CACHED_PLANS = 256
CACHED_VARIABLES = 1024
MAX_KEPT_VARIABLES = 2048
"""Variables spelled longer than this (bytes of JSON) are coerced afresh each time."""


@dataclass(frozen=True)
class CompiledOperation:
    text: str
    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    roots: tuple[tuple[str, str, Any], ...]
    """(response key, kind, plan): `typename`, `contentItems`, `contentItem`, `tags`."""

    @property
    def name(self) -> str | None:
        return self.operation.name.value if self.operation.name else None


_UNSUPPORTED = object()


class CompiledDocuments:
    def __init__(self, schema: GallerySchema, settings: Settings) -> None:
        self.schema = schema
        self.settings = settings
        self.media_url_prefix = settings.media_url_prefix
        self._plans: LRU[tuple[str, str | None], object] = LRU(CACHED_PLANS)
        self._variables: LRU[tuple[str, str | None, bytes | None], BoundVariables] = LRU(
            CACHED_VARIABLES
        )

    def plan(self, text: str, operation_name: str | None) -> CompiledOperation | None:
        key = (text, operation_name)
        plan = self._plans.get(key)
        if plan is None:
            try:
                plan = self._compile(text, operation_name)
            except Exception:  # unsupported, invalid, or a rule that crashed: the general
                plan = _UNSUPPORTED  # executor answers (and masks a crash)
            self._plans.put(key, plan)
        return plan if isinstance(plan, CompiledOperation) else None

    def _compile(self, text: str, operation_name: str | None) -> CompiledOperation:
        schema = self.schema._schema
        document = parse(text, max_tokens=self.settings.max_tokens)
        if validated(schema, document, self.schema.document_rules, hide_suggestions=True):
            raise Unsupported("invalid")
        if operation_problem(document, operation_name) is not None:
            raise Unsupported("no single operation")
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        operation = next(
            o
            for o in operations
            if operation_name is None or (o.name and o.name.value == operation_name)
        )
        if operation.operation is not OperationType.QUERY or operation.directives:
            raise Unsupported("not a plain query")
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        compiler = Compiler(schema, fragments, self.schema.config.name_converter)
        roots: list[tuple[str, str, Any]] = []
        for selection in compiler.collect(schema.query_type, [operation.selection_set]):  # type: ignore[arg-type]
            if selection.field is None:
                roots.append((selection.key, "typename", None))
            elif selection.name == "contentItems":
                roots.append(
                    (
                        selection.key,
                        selection.name,
                        connection_plan(compiler, selection, self.media_url_prefix),
                    )
                )
            elif selection.name == "tags":
                roots.append((selection.key, selection.name, tag_list_plan(compiler, selection)))
            elif selection.name == "contentItem":
                roots.append(
                    (
                        selection.key,
                        selection.name,
                        item_lookup_plan(compiler, selection, self.media_url_prefix),
                    )
                )
            else:
                raise Unsupported(f"Query.{selection.name}")
        if sum(kind != "typename" for _, kind, _ in roots) != 1:
            raise Unsupported("one root field that reads")  # a fallback must not count twice
        return CompiledOperation(text, document, operation, fragments, tuple(roots))

    async def execute(
        self,
        text: str,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: GalleryContext,
    ) -> ExecutionResult | None:
        """The answer, or None: the general executor must answer."""
        compiled = self.plan(text, operation_name)
        if compiled is None:
            return None
        started = time.perf_counter()
        try:
            data = await self._run(compiled, variables or {}, context)
        except Exception as reason:
            log.debug("compiled path declined: %r", reason)
            return None
        if data is None:
            return None
        metrics = self.schema.operation_metrics
        if metrics is not None:
            metrics.record(compiled.name, "query", time.perf_counter() - started, [])
        return ExecutionResult(data=data, errors=None)

    async def _run(
        self, compiled: CompiledOperation, raw: dict[str, Any], context: GalleryContext
    ) -> dict[str, Any] | None:
        variables = self._bound(compiled, raw)
        if variables is None:
            return None
        data: dict[str, Any] = {}
        for key, kind, plan in compiled.roots:
            data[key] = "Query" if kind == "typename" else await plan.run(context, variables)
        return data

    def _bound(self, compiled: CompiledOperation, raw: dict[str, Any]) -> BoundVariables | None:
        """The variables coerced and checked (page sizes, cost), or None: the executor
        reports what is wrong. Kept per document and variables' JSON: the same variables
        coerce alike for every request and viewer."""
        try:
            spelled = orjson.dumps(raw)
        except TypeError:  # an integer orjson does not write: not kept
            spelled = None
        key = (compiled.text, compiled.name, spelled)
        if spelled is not None and len(spelled) <= MAX_KEPT_VARIABLES:
            bound = self._variables.get(key)
            if bound is not None:
                return bound
        schema = self.schema._schema
        settings = self.settings
        values = get_variable_values(
            schema, compiled.operation.variable_definitions or (), raw, max_errors=1
        )
        if isinstance(values, list):
            return None
        if page_size_errors(
            compiled.operation, compiled.fragments, values.coerced, settings.max_page_size
        ):
            return None
        cost = cached_operation_cost(
            compiled.text, compiled.document, schema, compiled.name, raw, settings.max_page_size
        )
        if cost > settings.max_query_cost:
            return None
        bound = BoundVariables(values)
        if spelled is not None and len(spelled) <= MAX_KEPT_VARIABLES:
            self._variables.put(key, bound)
        return bound
