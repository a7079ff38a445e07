"""Column-level lineage of compiled dbt models, through sqlglot.

Reads one JSON request on stdin and writes one JSON answer on stdout, so the catalog
seeder (components/data/catalog/column-lineage.ts) parses every model in one process:

  request:  {"dialect": "postgres",
             "schema": {database: {schema: {table: {column: type}}}},
             "models": [{"id": "model.x.y", "sql": "<compiled SQL>"}]}
  answer:   {"sqlglot": "30.30.0",
             "results": [{"id": "model.x.y", "seconds": 0.01, "error": null,
                          "edges": [{"target": "total_amount", "database": "db",
                                     "schema": "silver", "table": "t", "column": "amount",
                                     "expression": "SUM(...)" | null}]}]}

Each output column of the model's final select is traced through CTEs, subqueries and
set operations down to the physical tables it reads (sqlglot.lineage); the schema
(from dbt's catalog.json) lets the optimizer expand `select *` and qualify columns. A
model that does not parse or qualify gets an `error` and no edges; the others go on.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope
from sqlglot.schema import MappingSchema

MAX_EXPRESSION_CHARS = 1000
EMPTY_SCHEMA = MappingSchema()


def leaf_column(node: Node, dialect: str) -> str | None:
    """The physical column a table leaf stands for (its name is `<alias>.<column>`)."""
    try:
        parsed = sqlglot.parse_one(node.name, dialect=dialect)
    except SqlglotError:
        return None
    if isinstance(parsed, exp.Column) and not isinstance(parsed.this, exp.Star):
        return parsed.name
    return None


def transformation(root: Node, dialect: str) -> str | None:
    """The outermost step that computes something (not a bare column pass-through)."""
    for node in root.walk():
        expression = node.expression
        if isinstance(expression, exp.Table):
            return None
        inner = expression.this if isinstance(expression, exp.Alias) else expression
        if isinstance(inner, (exp.Column, exp.Star)):
            continue
        text = expression.sql(dialect=dialect, comments=False)
        return text[:MAX_EXPRESSION_CHARS]
    return None


def model_lineage(sql: str, schema: MappingSchema, dialect: str) -> list[dict[str, Any]]:
    expression = sqlglot.parse_one(sql, dialect=dialect)
    qualified = qualify(
        expression,
        dialect=dialect,
        schema=schema,
        validate_qualify_columns=False,
        identify=False,
    )
    scope = build_scope(qualified)
    if scope is None:
        raise SqlglotError("not a query")
    roots = lineage(None, qualified, schema=schema, dialect=dialect, scope=scope, trim_selects=False, copy=False)
    edges: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str, str]] = set()
    for target, root in roots.items():
        expression_sql = transformation(root, dialect)
        for node in root.walk():
            table = node.expression
            if not isinstance(table, exp.Table):
                continue
            column = leaf_column(node, dialect)
            if column is None:
                continue
            key = (target, table.catalog, table.db, table.name, column)
            if key in seen:
                continue
            seen.add(key)
            edges.append(
                {
                    "target": target,
                    "database": table.catalog or None,
                    "schema": table.db or None,
                    "table": table.name,
                    "column": column,
                    "expression": expression_sql,
                }
            )
    return edges


def main() -> int:
    request = json.load(sys.stdin)
    dialect = request.get("dialect") or "postgres"
    schema = MappingSchema(request.get("schema") or {}, dialect=dialect, normalize=False)
    results = []
    for model in request.get("models", []):
        started = time.perf_counter()
        result: dict[str, Any] = {"id": model["id"], "edges": [], "error": None}
        try:
            try:
                result["edges"] = model_lineage(model["sql"], schema, dialect)
            except OptimizeError:
                # The schema does not know every column the SQL names (no catalog.json,
                # or an upstream built since): trace without it, as far as the SQL alone
                # allows (no `select *` expansion).
                result["edges"] = model_lineage(model["sql"], EMPTY_SCHEMA, dialect)
        except (SqlglotError, ValueError, KeyError, RecursionError) as error:
            result["error"] = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'no message'}"
        result["seconds"] = round(time.perf_counter() - started, 4)
        results.append(result)
    json.dump({"sqlglot": sqlglot.__version__, "results": results}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
