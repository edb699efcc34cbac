"""List indexes: the records of a table that one list shape asks for, kept in that list's order.

A list shape is an operation with its filters, search term and sort (D3). The first request of
a shape scans the table once and keeps a sorted entry per matching record; the tenant's writers
(``Tenant.insert``, ``set_fields``, ``remove``) then tell every index of the table about each
change, so an index is always exact. A later request of the shape costs its page: the total is
the index's length, the page a slice of it. A table keeps the indexes of its last
``INDEXES_PER_TABLE`` shapes; an index a write cannot keep (a value its order cannot compare) is
dropped and built again when next asked for.

The order is ``sort_records``'s: each sort part compares ``(value is not None, value, lower-cased
when text)``, ascending or descending, and equal records stay in id order.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from mockserver.store import Tenant

INDEXES_PER_TABLE = (
    8  # each index of 100,000 records holds about as many entries: a bound on memory and write cost
)


class Descending:
    """A sort value compared the other way round, so one ascending list holds a descending part."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Descending) and self.value == other.value

    def __lt__(self, other: Descending) -> bool:
        return other.value < self.value

    __hash__ = None  # type: ignore[assignment]


def sort_value(record: dict, field: str) -> tuple[bool, Any]:
    value = record.get(field)
    if isinstance(value, str):
        value = value.lower()
    return (value is not None, value if value is not None else 0)


def sort_key(field: str) -> Callable[[dict], tuple[bool, Any]]:
    return lambda record: sort_value(record, field)


def sort_parts(sort: str) -> list[tuple[str, bool]]:
    """``(field, descending)`` per part of a ``sort`` value; none for ``id``, the order records already have."""
    parts = [part for part in sort.split(",") if part]
    if parts == ["id"]:
        return []
    return [(part.lstrip("-"), part.startswith("-")) for part in parts]


class StaleIndex(LookupError):
    """A record the index should hold is not where its entry says: the index is dropped."""


class ListIndex:
    """The records of one table passing ``keep``, as sorted entries ``(sort values..., id)``."""

    def __init__(self, records: Iterable[dict], keep: Callable[[dict], bool], sort: str) -> None:
        self.keep = keep
        self.parts = sort_parts(sort)
        kept = [record for record in records if keep(record)]
        # Built with the stable sorts of sort_records (fast, C-level keys); entries compare in that same order.
        kept.sort(key=lambda record: record["id"])
        for field, descending in reversed(self.parts):
            kept.sort(key=sort_key(field), reverse=descending)
        self.entries: list[tuple] = [self.entry(record) for record in kept]

    def entry(self, record: dict) -> tuple:
        values: list[Any] = []
        for field, descending in self.parts:
            value = sort_value(record, field)
            values.append(Descending(value) if descending else value)
        values.append(record["id"])
        return tuple(values)

    def __len__(self) -> int:
        return len(self.entries)

    def records(self, table: dict[int, dict], start: int, stop: int) -> list[dict]:
        """The records at positions ``start`` to ``stop`` of the index, looked up in ``table``."""
        return [table[entry[-1]] for entry in self.entries[start:stop]]

    # --- told by the tenant's writers ------------------------------------------------------------

    def drop(self, record: dict) -> None:
        """``record`` (as it was before a change) leaves the index, if it is in it."""
        if not self.keep(record):
            return
        entry = self.entry(record)
        position = bisect_left(self.entries, entry)
        if position == len(self.entries) or self.entries[position] != entry:
            raise StaleIndex(record["id"])
        del self.entries[position]

    def add(self, record: dict) -> None:
        """``record`` (as it is after a change) enters the index, if it passes."""
        if self.keep(record):
            insort(self.entries, self.entry(record))


def index_for(tenant: Tenant, collection: str, shape: Hashable, build: Callable[[], ListIndex]) -> ListIndex:
    """The tenant's index of ``shape`` on ``collection``: kept from an earlier request, or built now."""
    indexes = tenant.list_indexes.setdefault(collection, OrderedDict())
    kept = indexes.get(shape)
    if isinstance(kept, ListIndex):
        indexes.move_to_end(shape)
        return kept
    index = build()
    indexes[shape] = index
    while len(indexes) > INDEXES_PER_TABLE:
        indexes.popitem(last=False)
    return index
