"""DuckDB SQL derived from the feed definitions: parse, type, validate.

The parse reads every field as text so that nothing is lost to a failed cast;
typing and validation happen in one projection. Two forms share the typing
and the rules:

- `validation_query` names the first broken rule of every row (columns in
  contract order; per column: required, type, length, then the named rules)
  in `_error` as `column|rule`; the exact path quarantines with it.
- `fast_query` only says whether a row is good, in `_ok`. It is for files
  expected to be clean: a file with any bad row goes to the exact path, so
  the fast form may send a good row there too (a typed value with spaces
  around it), but never accepts a row the exact form would reject, and types
  every row it accepts to the same values.
"""

from __future__ import annotations

from collections.abc import Mapping

from forecast_hub.feeds import DUCKDB_TYPES, Column, Feed

ERROR_COLUMN = "_error"
OK_COLUMN = "_ok"
# The spellings of a boolean, compared lower-cased.
TRUE_VALUES = ("true", "1", "yes", "y")
FALSE_VALUES = ("false", "0", "no", "n")


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_csv_call(path: str, field_count: int, gzipped: bool) -> str:
    """A strict RFC 4180 read of every field as text; rejects are stored, not raised."""
    columns = ", ".join(f"'f{i}': 'varchar'" for i in range(field_count))
    return (
        f"read_csv({quote_literal(path)}, header = true, auto_detect = false, "
        f"delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
        f"columns = {{{columns}}}, store_rejects = true, "
        f"compression = '{'gzip' if gzipped else 'none'}')"
    )


def _typed(column: Column, raw: str) -> str:
    if column.type == "text":
        return f"lower({raw})" if column.lowercase else raw
    if column.type == "date":
        # Only ISO YYYY-MM-DD; a cast alone would also take other layouts.
        return f"case when {raw} like '____-__-__' then try_cast({raw} as date) end"
    if column.type == "bool":
        true_values = ", ".join(quote_literal(v) for v in TRUE_VALUES)
        false_values = ", ".join(quote_literal(v) for v in FALSE_VALUES)
        return (
            f"case when lower({raw}) in ({true_values}) then true "
            f"when lower({raw}) in ({false_values}) then false end"
        )
    if column.type == "int":
        # A cast would round '1.5' to 2; a whole number must be written as one.
        return (
            f"case when regexp_full_match({raw}, '[+-]?[0-9]+') "
            f"then try_cast({raw} as {DUCKDB_TYPES['int']}) end"
        )
    return f"try_cast({raw} as {DUCKDB_TYPES[column.type]})"


def _error_checks(column: Column, raw: str, typed: str, ingested_at: str) -> list[tuple[str, str]]:
    """(condition that the value is bad, rule name) in the order they are checked."""
    checks: list[tuple[str, str]] = []
    if column.required:
        checks.append((f"{raw} is null", "required"))
    checks.append((f"{raw} is not null and {typed} is null", "type"))
    if column.type == "text":
        # strlen (bytes) is free and bounds length (characters) from above.
        limit = column.text_limit
        checks.append((f"strlen({raw}) > {limit} and length({raw}) > {limit}", "max_length"))
    for rule in column.rules:
        condition = rule.sql.replace("{value}", typed).replace("{ingested_at}", ingested_at)
        condition = condition.replace("{{", "{").replace("}}", "}")
        condition = _replace_row_references(condition)
        checks.append((f"{typed} is not null and not coalesce({condition}, false)", rule.name))
    return checks


def _replace_row_references(condition: str) -> str:
    """`{row.x}` in a rule means the typed value of column x of the same row."""
    while "{row." in condition:
        start = condition.index("{row.")
        end = condition.index("}", start)
        name = condition[start + len("{row.") : end]
        condition = condition[:start] + quote_identifier(name) + condition[end + 1 :]
    return condition


def validation_query(
    feed: Feed,
    read_call: str,
    field_of_column: Mapping[str, int],
    extra_fields: Mapping[str, int],
    ingested_at: str,
) -> str:
    """Typed feed columns, `extra_columns` (JSON) and `_error`, one row per parsed record.

    ``field_of_column`` maps each contract column present in the file to its
    field position; ``extra_fields`` does the same for unknown columns, which
    are kept as a JSON object.
    """
    whens = []
    for column in feed.columns:
        raw_name = quote_identifier("raw_" + column.name)
        typed_name = quote_identifier(column.name)
        for condition, rule in _error_checks(column, raw_name, typed_name, ingested_at):
            whens.append(f"when {condition} then {quote_literal(column.name + '|' + rule)}")
    error = "case " + " ".join(whens) + " end"

    own = ", ".join(quote_identifier(c.name) for c in feed.columns)
    return (
        f"{_typed_rows(feed, read_call, field_of_column, extra_fields, trim_typed=True)} "
        f"select {own}, extra_columns, {error} as {ERROR_COLUMN} from typed"
    )


def fast_query(
    feed: Feed,
    read_call: str,
    field_of_column: Mapping[str, int],
    extra_fields: Mapping[str, int],
    ingested_at: str,
) -> str:
    """Typed feed columns, `extra_columns` (when the file has unknown columns) and `_ok`.

    Numbers, timestamps and booleans are cast untrimmed: DuckDB's casts ignore
    surrounding spaces, and the whole-number and boolean checks reject them,
    so either the value is the one the trimmed cast gives or the row is not
    `_ok`. Text and dates (whose layout check counts characters) are trimmed
    as on the exact path. A row is `_ok` exactly when none of the exact
    path's checks holds; the checks are simplified where the fast path can
    (a typed value is null when its text is, text is never badly typed) and
    tested together.
    """
    bads: list[str] = []
    for column in feed.columns:
        raw = quote_identifier("raw_" + column.name)
        typed = quote_identifier(column.name)
        folded = {"type"}
        if column.type != "text":
            # A typed value is null when its text is: required and type are one check.
            folded.add("required")
            bads.append(
                f"{typed} is null" if column.required else f"{raw} is not null and {typed} is null"
            )
        bads += [
            condition
            for condition, rule in _error_checks(column, raw, typed, ingested_at)
            if rule not in folded
        ]
    own = ", ".join(quote_identifier(c.name) for c in feed.columns)
    extra = ", extra_columns" if extra_fields else ""
    ok = f"not coalesce({' or '.join(f'({bad})' for bad in bads)}, false)"
    return (
        f"{_typed_rows(feed, read_call, field_of_column, extra_fields, trim_typed=False)} "
        f"select {own}{extra}, {ok} as {OK_COLUMN} from typed"
    )


def _trimmed(field: str) -> str:
    """The field with surrounding spaces removed, and null when nothing is left.

    Trimming every value allocates a copy; most values have nothing to trim.
    """
    return (
        f"case when prefix({field}, ' ') or suffix({field}, ' ') or {field} = '' "
        f"then nullif(trim({field}), '') else {field} end"
    )


def _typed_rows(
    feed: Feed,
    read_call: str,
    field_of_column: Mapping[str, int],
    extra_fields: Mapping[str, int],
    trim_typed: bool,
) -> str:
    """`with parsed as (...), typed as (...)`: raw_<column> text and <column> typed."""

    def raw(column: Column) -> str:
        position = field_of_column.get(column.name)
        if position is None:
            return "null::varchar"
        if column.type in ("text", "date") or trim_typed:
            return _trimmed(f"f{position}")
        return f"f{position}"

    raw_columns = [f"{raw(c)} as {quote_identifier('raw_' + c.name)}" for c in feed.columns]
    typed_columns = [
        f"{_typed(c, quote_identifier('raw_' + c.name))} as {quote_identifier(c.name)}"
        for c in feed.columns
    ]
    if extra_fields:
        pairs = ", ".join(
            f"{quote_literal(name)}, {_trimmed(f'f{position}')}"
            for name, position in extra_fields.items()
        )
        extra = f"json_object({pairs})::varchar"
    else:
        extra = "null::varchar"
    return (
        f"with parsed as (select {', '.join(raw_columns)}, {extra} as extra_columns "
        f"from {read_call}), "
        f"typed as (select *, {', '.join(typed_columns)} from parsed)"
    )
