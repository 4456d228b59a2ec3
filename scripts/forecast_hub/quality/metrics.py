"""The metrics each expectation asks GX for, computed in DuckDB batch by batch.

A GX expectation is judged from metrics: the rows of the batch, the rows its
condition finds unexpected, the nulls among them, the first few unexpected
values. Pandas computes them over a whole table in memory (0.5 to 1.5
microseconds per row and expectation, measured on 2M rows, and the table
held in Python); here
DuckDB computes each one with a query per batch and the counts are added
up, so the checkpoint's memory is that of one batch in DuckDB, its time one
scan per batch, and GX receives a few numbers and at most
``partial_unexpected_count`` values per expectation. GX's own expectation
then turns them into its result (``Expectation.metrics_validate``), exactly
as it does with the metrics its pandas engine computes.

Adding counts over batches is exact for a row-wise condition (null, between,
a pair equal) on any split of the rows. For compound uniqueness it is exact
when no key can occur in two batches: the batches are split by a column of
the key (see ``Dataset.batch_column``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import great_expectations.expectations as gxe
from great_expectations.core.expectation_validation_result import ExpectationValidationResult

RESULT_FORMAT = "SUMMARY"
# GX's SUMMARY result keeps this many unexpected values.
PARTIAL_UNEXPECTED_COUNT = 20

# Metrics of a map expectation that only an in-memory frame has: row positions
# and the pandas expression that selects them. A batch of a DuckDB query has
# neither, as GX's SQL engine has not; GX leaves them out of the result.
_NOT_COMPUTED = ("unexpected_index_list", "unexpected_index_query")

Query = Callable[[str], list[tuple[Any, ...]]]


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"a bound of an expectation must be a number, not {value!r}")
    return repr(value)


@dataclass(frozen=True)
class Condition:
    """What one map expectation counts: the rows it looks at, and those it finds unexpected.

    ``domain`` is SQL true for the rows GX considers (the others are ignored
    or missing); ``unexpected`` is SQL true for a considered row that fails.
    ``unique_key`` is set for compound uniqueness, whose unexpected rows are
    those of a key that occurs more than once among the considered rows.
    """

    map_metric: str
    domain: str
    unexpected: str
    values: tuple[str, ...]
    unique_key: tuple[str, ...] = ()
    # GX counts missing values of a column map with column_values.nonnull.
    null_column: str | None = None


def condition(expectation: gxe.Expectation) -> Condition | None:
    """The condition of a map expectation of the suites; None for a table expectation."""
    if isinstance(expectation, gxe.ExpectColumnValuesToNotBeNull):
        column = quoted(expectation.column)
        return Condition("column_values.nonnull", "true", f"{column} is null", (column,))
    if isinstance(expectation, gxe.ExpectColumnValuesToBeBetween):
        return _between(expectation)
    if isinstance(expectation, gxe.ExpectColumnPairValuesToBeEqual):
        a, b = quoted(expectation.column_A), quoted(expectation.column_B)
        if expectation.ignore_row_if != "both_values_are_missing":
            raise ValueError(f"ignore_row_if={expectation.ignore_row_if} is not computed here")
        return Condition(
            "column_pair_values.equal",
            f"not ({a} is null and {b} is null)",
            f"{a} is distinct from {b}",
            (a, b),
        )
    if isinstance(expectation, gxe.ExpectCompoundColumnsToBeUnique):
        columns = tuple(quoted(name) for name in expectation.column_list)
        if expectation.ignore_row_if != "all_values_are_missing":
            raise ValueError(f"ignore_row_if={expectation.ignore_row_if} is not computed here")
        return Condition(
            "compound_columns.unique",
            "not (" + " and ".join(f"{c} is null" for c in columns) + ")",
            "",
            columns,
            unique_key=columns,
        )
    if isinstance(expectation, gxe.ExpectTableRowCountToBeBetween | gxe.ExpectTableRowCountToEqual):
        return None
    raise ValueError(f"{type(expectation).__name__} has no DuckDB metrics here")


def _between(expectation: gxe.ExpectColumnValuesToBeBetween) -> Condition:
    column = quoted(expectation.column)
    within = []
    if expectation.min_value is not None:
        low = _literal(expectation.min_value)
        within.append(f"{column} {'>' if expectation.strict_min else '>='} {low}")
    if expectation.max_value is not None:
        high = _literal(expectation.max_value)
        within.append(f"{column} {'<' if expectation.strict_max else '<='} {high}")
    inside = " and ".join(within) or "true"
    return Condition(
        "column_values.between",
        f"{column} is not null",
        f"not ({inside})",
        (column,),
        null_column=column,
    )


@dataclass
class Totals:
    """One expectation's metrics, added up over the batches seen so far."""

    condition: Condition | None
    rows: int = 0
    considered: int = 0
    unexpected: int = 0
    nulls: int = 0
    values: list[Any] = field(default_factory=list)

    def counts(self) -> list[str]:
        """The aggregates of the batch-wide query this expectation needs besides count(*)."""
        cond = self.condition
        if cond is None:
            return []
        nulls = f"{cond.null_column} is null" if cond.null_column else "false"
        counts = [f"count(*) filter (where {cond.domain})", f"count(*) filter (where {nulls})"]
        if not cond.unique_key:
            counts.append(f"count(*) filter (where ({cond.domain}) and ({cond.unexpected}))")
        return counts

    def add_batch(self, rows: int, counts: list[int], source: str, query: Query) -> None:
        """Add a batch: its rows, this expectation's ``counts()``, then what needs a query."""
        self.rows += rows
        cond = self.condition
        if cond is None:
            return
        self.considered += counts[0]
        self.nulls += counts[1]
        if cond.unique_key:
            ((found,),) = query(_duplicates(cond, source))
            found = int(found or 0)
        else:
            found = counts[2]
        self.unexpected += found
        wanted = PARTIAL_UNEXPECTED_COUNT - len(self.values)
        if found and wanted > 0:
            self.values.extend(_first_unexpected(cond, source, wanted, query))

    def metrics(self, expectation: gxe.Expectation) -> dict[Any, Any]:
        """The metric values GX asks for, keyed as its expectation looks them up."""
        dependencies = expectation.get_validation_dependencies(
            execution_engine=None, runtime_configuration={"result_format": RESULT_FORMAT}
        )
        metrics = {}
        for name, configuration in dependencies.metric_configurations.items():
            metrics[configuration.id] = self._value(name)
        return metrics

    def _value(self, name: str) -> Any:
        if name == "table.row_count":
            return self.rows
        cond = self.condition
        assert cond is not None, f"a table expectation asked for {name}"
        if name == "column_values.nonnull.unexpected_count" and cond.null_column:
            return self.nulls
        suffix = name.removeprefix(cond.map_metric + ".")
        if suffix == "unexpected_count":
            return self.unexpected
        if suffix == "filtered_row_count":
            return self.considered
        if suffix == "unexpected_values":
            return list(self.values)
        if suffix in _NOT_COMPUTED:
            return None
        raise ValueError(f"no DuckDB value for the metric {name}")


def _duplicates(cond: Condition, source: str) -> str:
    """The count of considered rows whose key occurs more than once in the batch."""
    key = ", ".join(cond.unique_key)
    return (
        f"select sum(occurrences) from (select count(*) as occurrences from {source}"
        f" where {cond.domain} group by {key} having count(*) > 1)"
    )


def _first_unexpected(cond: Condition, source: str, limit: int, query: Query) -> list[Any]:
    """Up to ``limit`` unexpected values of the batch, as GX's pandas engine lists them."""
    columns = ", ".join(cond.values)
    if cond.unique_key:
        key = ", ".join(cond.unique_key)
        rows = query(
            f"select {columns} from {source} where {cond.domain} and ({key}) in"
            f" (select ({key}) from {source} where {cond.domain}"
            f" group by {key} having count(*) > 1) limit {limit}"
        )
        names = [name.strip('"').replace('""', '"') for name in cond.values]
        return [dict(zip(names, row, strict=True)) for row in rows]
    rows = query(
        f"select {columns} from {source}"
        f" where ({cond.domain}) and ({cond.unexpected}) limit {limit}"
    )
    if len(cond.values) == 1:
        return [row[0] for row in rows]
    return [tuple(row) for row in rows]


def validate(
    expectations: Iterable[gxe.Expectation],
    batches: Iterable[str],
    connection: duckdb.DuckDBPyConnection,
) -> list[ExpectationValidationResult]:
    """GX's result of each expectation over all ``batches`` (FROM clauses), batch by batch.

    Per batch one query counts rows, considered rows, nulls and row-wise
    unexpected rows for every expectation at once; each uniqueness
    expectation adds one aggregate by its key; unexpected values are fetched
    only while fewer than ``PARTIAL_UNEXPECTED_COUNT`` are known.
    """
    expectations = list(expectations)
    totals = [Totals(condition(expectation)) for expectation in expectations]

    def query(sql: str) -> list[tuple[Any, ...]]:
        return connection.execute(sql).fetchall()

    for source in batches:
        aggregates = ["count(*)", *(count for total in totals for count in total.counts())]
        ((rows, *counts),) = query(f"select {', '.join(aggregates)} from {source}")
        offset = 0
        for total in totals:
            width = len(total.counts())
            mine = [int(value) for value in counts[offset : offset + width]]
            total.add_batch(int(rows), mine, source, query)
            offset += width
    return [
        expectation.metrics_validate(
            metrics=total.metrics(expectation),
            runtime_configuration={"result_format": RESULT_FORMAT},
            execution_engine=None,
        )
        for expectation, total in zip(expectations, totals, strict=True)
    ]
