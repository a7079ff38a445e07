"""Column-level lineage of compiled dbt models, through sqlglot.

Reads one JSON request on stdin and writes one JSON answer on stdout, so the catalog
seeder (lib/catalog/column-lineage.ts) starts Python and imports sqlglot once
per seed, however many models it parses:

  request:  {"dialect": "postgres", "workers": 2,
             "schema": {database: {schema: {table: {column: type}}}},
             "models": [{"id": "model.x.y", "sql": "<compiled SQL>"}]}
  answer:   {"sqlglot": "30.30.0", "compiled": true, "workers": 2, "cpu_seconds": 1.9,
             "process_cpu_seconds": 2.2,
             "results": [{"id": "model.x.y", "seconds": 0.01, "error": null,
                          "edges": [{"target": "total_amount", "database": "db",
                                     "schema": "silver", "table": "t", "column": "amount",
                                     "expression": "SUM(...)" | null}]}]}

Each output column of the model's final select is traced through CTEs, subqueries and
set operations down to the physical tables it reads (sqlglot.lineage); the schema
(from dbt's catalog.json) lets the optimizer expand `select *` and qualify columns.

The seeder starts this process before it has the request (while it reads the database), so importing sqlglot and warming its parser overlap that work; the request
is read after the warm-up. The schema is built once, then the models are parsed by a
bounded pool of forked worker processes (`workers`, at most the CPUs this process may
use), which inherit the schema and the imported, warmed sqlglot. Each worker encodes its
own answers as JSON, so the parent only joins text (no pickling of edge lists, no serial
encoding at the end). Every model is isolated: any exception its SQL raises in sqlglot
(parse errors, but also an AssertionError or TypeError from deep inside the optimizer)
becomes that model's `error`, and a worker process that dies is replaced and its models
retried one by one, so one model never costs the others their lineage.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import OptimizeError, SqlglotError
from sqlglot.lineage import Node, lineage
from sqlglot.optimizer.qualify import qualify
from sqlglot.optimizer.scope import build_scope
from sqlglot.schema import MappingSchema

MAX_EXPRESSION_CHARS = 1000
# Models per task sent to a worker: small enough to balance, large enough to amortize.
MAX_CHUNK = 32

# Set in the parent before the pool forks; the workers inherit them.
STATE: dict[str, Any] = {}


def compiled() -> bool:
    """Whether sqlglot runs its mypyc-compiled modules (the sqlglotc package)."""
    return not str(getattr(sqlglot.parser, "__file__", "")).endswith(".py")


def leaf_column(node: Node, dialect: Dialect) -> str | None:
    """The physical column a table leaf stands for (its name is `<alias>.<column>`)."""
    name = node.name
    if not any(quote in name for quote in "\"`[]'"):
        column = name.rsplit(".", 1)[-1]
        return None if column == "*" or not column else column
    try:
        parsed = sqlglot.parse_one(name, dialect=dialect)
    except SqlglotError:
        return None
    if isinstance(parsed, exp.Column) and not isinstance(parsed.this, exp.Star):
        return parsed.name
    return None


def transformation(root: Node, dialect: Dialect) -> str | None:
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


def model_lineage(sql: str, schema: MappingSchema, dialect: Dialect) -> list[dict[str, Any]]:
    expression = sqlglot.parse_one(sql, dialect=dialect)
    qualified = qualify(
        expression,
        dialect=dialect,
        schema=schema,
        validate_qualify_columns=False,
        identify=False,
        # Marking every identifier quoted costs ~15 % of the parse and changes no edge:
        # normalize_identifiers has already fixed each name's case.
        quote_identifiers=False,
    )
    scope = build_scope(qualified)
    if scope is None:
        raise SqlglotError("not a query")
    roots = lineage(None, qualified, schema=schema, dialect=dialect, scope=scope, trim_selects=False, copy=False)
    edges: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str, str, str]] = set()
    for target, root in roots.items():
        expression_sql: str | None = None
        computed = False
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
            if not computed:
                expression_sql = transformation(root, dialect)
                computed = True
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


def describe(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0] if text else 'no message'}"


def trace(model: dict[str, Any]) -> dict[str, Any]:
    """One model's answer; never raises for what its SQL does to sqlglot."""
    dialect: Dialect = STATE["dialect"]
    started = time.perf_counter()
    cpu = time.process_time()
    result: dict[str, Any] = {"id": model["id"], "edges": [], "error": None}
    try:
        try:
            result["edges"] = model_lineage(model["sql"], STATE["schema"], dialect)
        except OptimizeError:
            # The schema does not know every column the SQL names (no catalog.json, or an
            # upstream built since): trace without it, as far as the SQL alone allows (no
            # `select *` expansion).
            result["edges"] = model_lineage(model["sql"], STATE["empty"], dialect)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as error:  # noqa: BLE001 - any failure is this model's alone
        result["edges"] = []
        result["error"] = describe(error)
    result["seconds"] = round(time.perf_counter() - started, 4)
    result["cpu"] = round(time.process_time() - cpu, 4)
    return result


def trace_chunk(chunk: list[dict[str, Any]]) -> tuple[str, float]:
    """The chunk's answers as JSON array items (encoded in the worker), and their CPU seconds."""
    results = [trace(model) for model in chunk]
    return ",".join(json.dumps(r, separators=(",", ":")) for r in results), sum(r["cpu"] for r in results)


def warm_up(dialect: Dialect) -> None:
    """Runs one tiny model through every step, so lazy set-up is paid once, before the fork."""
    schema = MappingSchema({"d": {"s": {"t": {"a": "int", "b": "text"}}}}, dialect=dialect, normalize=False)
    model_lineage('with c as (select * from "d"."s"."t") select coalesce(a, 0) as a, b from c', schema, dialect)


def usable_cpus() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def dead_model(model: dict[str, Any]) -> tuple[str, float]:
    answer = {
        "id": model["id"],
        "edges": [],
        "error": "the parser process died on this model (out of memory or a crash in sqlglot)",
        "seconds": 0,
        "cpu": 0,
    }
    return json.dumps(answer), 0.0


def run_pool(models: list[dict[str, Any]], workers: int) -> tuple[list[str], float]:
    """Parses `models` in `workers` forked processes; retries the models of a dead worker alone.

    Returns the answers as JSON array items (in the models' order) and their CPU seconds."""
    size = max(1, min(MAX_CHUNK, len(models) // (workers * 4) or 1))
    chunks = [models[i : i + size] for i in range(0, len(models), size)]
    whole: dict[int, tuple[str, float]] = {}  # chunk index → its answers
    alone: dict[str, tuple[str, float]] = {}  # model id → its answer (retried one by one)
    # A dead worker breaks the whole pool: every unfinished task fails, not only its own.
    # So: the chunks once; the models of failed chunks once more, one per task, in a
    # fresh pool (most finish); what still fails runs one model at a time, each alone in a
    # one-worker pool, so only the model that kills its worker is reported dead.
    failed: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [(index, chunk, pool.submit(trace_chunk, chunk)) for index, chunk in enumerate(chunks)]
        for index, chunk, future in futures:
            try:
                whole[index] = future.result()
            except BrokenProcessPool:
                failed.extend(chunk)
    if failed:
        again: list[dict[str, Any]] = []
        with ProcessPoolExecutor(max_workers=workers) as pool:
            singles = [(model, pool.submit(trace_chunk, [model])) for model in failed]
            for model, future in singles:
                try:
                    alone[model["id"]] = future.result()
                except BrokenProcessPool:
                    again.append(model)
        for model in again:
            with ProcessPoolExecutor(max_workers=1) as pool:
                try:
                    alone[model["id"]] = pool.submit(trace_chunk, [model]).result()
                except BrokenProcessPool:
                    alone[model["id"]] = dead_model(model)
    texts: list[str] = []
    cpu = 0.0
    for index, chunk in enumerate(chunks):
        answers = [whole[index]] if index in whole else [alone[model["id"]] for model in chunk]
        for text, seconds in answers:
            texts.append(text)
            cpu += seconds
    return texts, cpu


def main() -> int:
    # Import and warm-up happen before the request arrives: the seeder is still reading the
    # database meanwhile.
    try:
        warm_up(Dialect.get_or_raise("postgres"))
    except Exception:  # noqa: BLE001 - only a head start; the models report their own failures
        pass
    request = json.load(sys.stdin)
    dialect = Dialect.get_or_raise(request.get("dialect") or "postgres")
    STATE["dialect"] = dialect
    STATE["schema"] = MappingSchema(request.get("schema") or {}, dialect=dialect, normalize=False)
    STATE["empty"] = MappingSchema(dialect=dialect)
    models: list[dict[str, Any]] = request.get("models", [])
    requested = int(request.get("workers") or 0)
    del request
    workers = max(1, min(requested or usable_cpus(), usable_cpus(), len(models) // 8 or 1))
    if workers == 1:
        texts, cpu = trace_chunk(models)
        items = [texts] if texts else []
    else:
        items, cpu = run_pool(models, workers)
    usage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    process_cpu = usage.ru_utime + usage.ru_stime + children.ru_utime + children.ru_stime
    head = {
        "sqlglot": sqlglot.__version__,
        "compiled": compiled(),
        "workers": workers,
        # CPU seconds spent parsing, all workers together (wall time varies with the machine's load).
        "cpu_seconds": round(cpu, 3),
        # CPU seconds of this process and its workers, start-up and encoding included.
        "process_cpu_seconds": round(process_cpu, 3),
    }
    out = sys.stdout
    out.write(json.dumps(head)[:-1])
    out.write(',"results":[')
    out.write(",".join(item for item in items if item))
    out.write("]}")
    out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
