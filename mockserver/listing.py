"""Paging, sorting, searching and filtering of list operations (D3).

Everything is driven by the operation's ``x-sort-fields``, ``x-default-sort``,
``x-search-fields`` and ``x-filters``; list-level messages come from the
spec's root ``x-list-messages``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from mockserver.clock import parse_iso
from mockserver.context import Context, Pager, Reply, Sorter
from mockserver.errors import ApiError, ValidationFailed
from mockserver.list_index import ListIndex, index_for, sort_key, sort_parts
from mockserver.spec import BASE_PATH
from mockserver.store import Tenant

FILTER_KEY = re.compile(r"^filter\[(\w+)\](?:\[([^\]]+)\])?$")
LIST_OPERATORS = {"in", "not_in"}
# Every operator the docs list for ``filter[field][operator]`` (List Contacts).
ALL_OPERATORS = ("eq", "ne", "gt", "gte", "lt", "lte", "like", "in", "not_in", "between", "null")


def invalid_query(kind: str, names: list[str]) -> ApiError:
    """The 400 of a server that refuses unknown query names outright (as Spatie's query builder does)."""
    return ApiError(400, "INVALID_QUERY", f"Requested {kind}(s) `{', '.join(names)}` are not allowed.")


def _parse_value(text: str, kind: str) -> Any:
    if kind == "integer":
        if not re.fullmatch(r"-?\d{1,18}", text):
            raise ValueError(text)
        return int(text)
    if kind == "datetime":
        return parse_iso(text)
    if kind == "boolean":
        if text not in ("true", "false", "1", "0"):
            raise ValueError(text)
        return text in ("true", "1")
    return text


def _record_value(record: dict, name: str, kind: str) -> Any:
    value = record.get(name)
    if kind == "datetime" and isinstance(value, str):
        return parse_iso(value)
    return value


def _predicate(name: str, operator: str, raw: str, kind: str) -> Callable[[dict], bool]:
    if operator == "null":
        wanted = raw in ("true", "1")
        return lambda r: (r.get(name) is None) == wanted
    if operator in LIST_OPERATORS or operator == "between":
        values = [_parse_value(part.strip(), kind) for part in raw.split(",") if part.strip()]
        if operator == "between":
            if len(values) != 2:
                raise ValueError(raw)
            low, high = values
            return lambda r: (v := _record_value(r, name, kind)) is not None and low <= v <= high
        if operator == "in":
            return lambda r: _record_value(r, name, kind) in values
        return lambda r: _record_value(r, name, kind) not in values
    if operator == "like":
        needle = raw.lower()
        return lambda r: needle in str(r.get(name) or "").lower()
    value = _parse_value(raw, kind)
    compare: dict[str, Callable[[Any], bool]] = {
        "eq": lambda v: (value in v) if isinstance(v, list) else v == value,
        "ne": lambda v: v != value,
        "gt": lambda v: v is not None and v > value,
        "gte": lambda v: v is not None and v >= value,
        "lt": lambda v: v is not None and v < value,
        "lte": lambda v: v is not None and v <= value,
    }
    check = compare[operator]
    if kind == "datetime" and operator == "eq" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        day = value
        return lambda r: (v := _record_value(r, name, kind)) is not None and day <= v < day + 86400
    return lambda r: check(_record_value(r, name, kind))


def operators_of(rule: dict) -> list[str]:
    """A filter's operators; YAML reads the spec's unquoted ``null`` operator (``[..., null]``) as None."""
    return ["null" if name is None else name for name in rule.get("operators", ["eq"])]


def build_filters(
    op_filters: dict,
    raw_filters: list[tuple[str, str]],
    messages: dict,
    unknown: str = "refuse",
    aliases: dict[str, str] | None = None,
) -> list[Callable]:
    """``unknown``: what an unknown filter or operator gets: "refuse" (422), "bad-request" (400) or "ignore" (D19).
    ``aliases``: operator spellings the spec's ``x-filter-operator-aliases`` maps to operator names (``>=``)."""
    predicates = []
    errors: dict[str, list[str]] = {}
    for key, raw in raw_filters:
        match = FILTER_KEY.match(key)
        # A key that does not parse (``filter[]``, ``filter[a][gt][x]``) names no filter: refused like
        # an unknown one, not silently dropped, which would answer an unfiltered list.
        name, operator = (match.group(1), match.group(2) or "eq") if match else (key, "eq")
        operator = (aliases or {}).get(operator, operator)
        rule = op_filters.get(name)
        if rule is None:
            message = messages["unknown_filter"].format(field=name)
        elif operator not in operators_of(rule):
            message = messages["bad_operator"].format(field=name, operator=operator)
        else:
            message = None
        if message is not None:
            if unknown == "bad-request":
                raise invalid_query("filter", [key])
            if unknown == "refuse":
                errors.setdefault(key, []).append(message)
            continue
        try:
            predicates.append(_predicate(name, operator, raw, (rule or {}).get("type", "string")))
        except (ValueError, TypeError):
            errors.setdefault(key, []).append(messages["bad_value"].format(field=name))
    if errors:
        raise ValidationFailed(errors)
    return predicates


def sort_records(records: list[dict], sort: str) -> list[dict]:
    ordered = sorted(records, key=lambda r: r["id"])
    for field, descending in reversed(sort_parts(sort)):
        ordered.sort(key=sort_key(field), reverse=descending)
    return ordered


def search_predicate(term: str, fields: list[str]) -> Callable[[dict], bool]:
    """A partial match of ``term`` in any of ``fields``, case ignored (D19)."""
    needle = term.lower()
    return lambda r: any(needle in str(r.get(f) or "").lower() for f in fields)


def select_fields(item: dict, fields: str | None) -> dict:
    if not fields:
        return item
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    chosen = {k: item[k] for k in wanted if k in item}
    return chosen or item


def page_of(
    records: Sequence[dict], page: int, per_page: int, base_url: str, query: list[tuple[str, str]]
) -> tuple[list[dict], dict, dict]:
    total = len(records)
    last_page = max(1, math.ceil(total / per_page))
    start = (page - 1) * per_page
    items = list(records[start : start + per_page])
    meta = {
        "current_page": page,
        "per_page": per_page,
        "total": total,
        "last_page": last_page,
        "from": start + 1 if items else None,
        "to": start + len(items) if items else None,
    }
    kept = [(k, v) for k, v in query if k != "page"]

    def url(number: int) -> str:
        return f"{base_url}?{urlencode(kept + [('page', str(number))])}"

    links = {
        "first": url(1),
        "last": url(last_page),
        "prev": url(page - 1) if page > 1 else None,
        "next": url(page + 1) if page < last_page else None,
    }
    return items, meta, links


@dataclass(frozen=True)
class Paging:
    """How a list is ordered and cut into pages: one seam of ``MockCore`` (``core.paging``)."""

    sort: Sorter = sort_records
    page: Pager = page_of


@dataclass(frozen=True)
class Table:
    """The caller's whole ``collection``: a list of it is answered from the tenant's list indexes
    (``mockserver/list_index.py``), so a page costs what it shows, not what the table holds."""

    tenant: Tenant
    collection: str

    def records(self) -> dict[int, dict]:
        return self.tenant.table(self.collection)


class Slices(Sequence[dict]):
    """A list's records as the pager sees them: its length, and slices computed when asked for, so a
    page of a table costs the page, not the table (no copy, no sort)."""

    def __init__(self, length: int, between: Callable[[int, int], list[dict]]) -> None:
        self.length = length
        self.between = between

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice) and (index.step or 1) == 1:
            start, stop, _ = index.indices(self.length)
            return self.between(start, max(start, stop))
        return self.between(0, self.length)[index]


def respond(
    ctx: Context,
    records: Iterable[dict] | Table,
    present: Callable[[dict], dict] = lambda record: record,
) -> Reply:
    """Filters, searches, sorts and pages ``records`` as the operation's extensions say (D3).

    A ``Table`` is listed from an index kept for the list's shape; other records (a handler's
    own selection) are filtered and sorted here. A changed pager or sort (``core.paging``) gets
    the plain records.
    """
    paging = ctx.paging
    op, behaviour = ctx.op, ctx.behaviour
    sort = ctx.query.get("sort") or behaviour.default_sort(op)
    term = ctx.query.get("search") or ctx.query.get("q")
    raw_filters = [(k, v) for k, v in ctx.raw_query if k.startswith("filter[")]
    indexed = records if isinstance(records, Table) and paging == Paging() else None
    listed: Sequence[dict]
    if indexed is not None and sort == "id" and not term and not raw_filters:
        # A whole table in its own (id) order (``Tenant`` keeps it so), paged as it is.
        values = indexed.records().values()
        listed = Slices(len(values), lambda start, stop: list(itertools.islice(values, start, stop)))
    else:
        filters = op.ext("filters", {})
        if behaviour.all_operators:
            filters = {name: {**rule, "operators": list(ALL_OPERATORS)} for name, rule in filters.items()}
        predicates = build_filters(
            filters,
            raw_filters,
            ctx.messages.list_messages,
            behaviour.unknown_query,
            ctx.messages.operator_aliases,
        )
        if term:
            predicates.append(search_predicate(term, op.ext("search-fields", [])))
        if indexed is not None:
            table = indexed.records()
            shape = (op.operation_id, tuple(raw_filters), term.lower() if term else None, sort)
            index = index_for(
                indexed.tenant,
                indexed.collection,
                shape,
                lambda: ListIndex(table.values(), lambda r: all(p(r) for p in predicates), sort),
            )
            listed = Slices(len(index), lambda start, stop: index.records(table, start, stop))
        else:
            chosen = records.records().values() if isinstance(records, Table) else records
            listed = paging.sort([r for r in chosen if all(p(r) for p in predicates)], sort)
    url = ctx.origin + BASE_PATH + op.path
    items, meta, links = paging.page(
        listed, ctx.query.get("page") or 1, ctx.query.get("per_page") or 15, url, ctx.raw_query
    )
    return Reply(present_page(ctx, items, present), listing=(meta, links))


def present_page(ctx: Context, items: list[dict], present: Callable[[dict], dict]) -> list[dict]:
    fields = ctx.query.get("fields")
    return [
        select_fields(ctx.behaviour.present(ctx.op, present(item), "item", ctx.tenant.id), fields)
        for item in items
    ]
