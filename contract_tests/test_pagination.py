"""Properties of the list operations (those with ``x-sort-fields``): pages, sorting, search and exact filters.

Hypothesis creates records through the API (sources, statuses, groups, contacts
and, by sending texts, messages; templates come only from the tenant's own
set), draws page sizes, sort orders, search terms and filter values, and every
answer is compared with what Python computes from the complete list. Counts
are always read from the target before records are made: seed data is never
assumed.

Provenance: the page envelope and its invariants are D3. Sorting, search and
exact filters are documented on the documented list pages (List Contacts, List
Messages, ...) and assumed (D3) where the list page itself is (sources,
statuses) or where the spec marks the filter assumed. The documented checks
page with ``page``/``per_page`` alone (a short page is the last), not with D3's
``meta``.
"""

from __future__ import annotations

import math
import secrets
import string
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contract_tests import contract, records
from contract_tests.plugin import Api
from contract_tests.target import Control, TenantHandle
from mockserver.spec import Operation

LIST_OPS: list[Operation] = [op for op in contract.spec().operations.values() if op.sort_fields]
PAGE_META = ("current_page", "per_page", "total", "last_page", "from", "to")
LINKS = ("first", "last", "prev", "next")
DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100
# Messages are made by sending WhatsApp texts: keep their number small.
MOST_CREATED = {"messages": 4, "templates": 0}
ALNUM = string.ascii_letters + string.digits
CONTACT_TYPES: list[str] = contract.spec().operation("createContact").body_fields["type"].schema["enum"]


# --- the spec -------------------------------------------------------------------------------------


def list_documented(op: Operation) -> bool:
    return str(op.raw.get("x-provenance", "")).startswith("documented")


def exact_filters(op: Operation) -> list[str]:
    """Filters the operation declares in their exact form ``filter[field]``."""
    return [name[len("filter["):-1] for name in op.query_schemas if name.startswith("filter[") and name.count("[") == 1]


def filter_documented(op: Operation, field: str) -> bool:
    parameter = next(p for p in op.raw.get("parameters", ()) if p.get("name") == f"filter[{field}]")
    return list_documented(op) and "assumed" not in str(parameter.get("description", "")).lower()


def marks(op: Operation, documented: bool) -> list:
    found = [pytest.mark.documented if documented else pytest.mark.assumed, pytest.mark.operation(op.operation_id)]
    if op.collection == "messages":
        found.append(pytest.mark.sends)
    return found


def list_cases(documented: Callable[[Operation], bool]) -> list:
    return [pytest.param(op, id=op.operation_id, marks=marks(op, documented(op))) for op in LIST_OPS]


def sort_cases() -> list:
    return [pytest.param(op, name, id=f"{op.operation_id}.{name}", marks=marks(op, list_documented(op)))
            for op in LIST_OPS for name in op.sort_fields]


def filter_cases() -> list:
    return [pytest.param(op, name, id=f"{op.operation_id}.{name}", marks=marks(op, filter_documented(op, name)))
            for op in LIST_OPS for name in exact_filters(op)]


# --- making records ---------------------------------------------------------------------------------


def create(api: Api, tenant: TenantHandle, op: Operation, text: str) -> int | None:
    """One record of the list's collection whose searchable name holds ``text``; its id where the answer gives it."""
    collection = op.collection
    if collection == "contacts":
        # Vary the filterable fields too: the type, and group membership for every other record.
        kind = CONTACT_TYPES[len(text) % len(CONTACT_TYPES)]
        groups = [records.group(api)["id"]] if len(text) % 2 == 0 else []
        return records.contact(api, tenant, firstname=text, lastname=f"{text[::-1]}x", type=kind, groups=groups)["id"]
    if collection == "messages":
        response = api.post("/messages/text", json={"phone": records.unique_phone(), "message": f"Note {text}"})
        assert response.status_code == 200, response.text
        return None
    body = {"name": f"{text} {secrets.token_hex(4)}"}
    if collection == "statuses":
        body["color"] = "#FF5733"
    response = api.post(f"/{collection}", json=body)
    assert response.status_code == 201, response.text
    return response.json()["data"]["id"]


def create_many(api: Api, tenant: TenantHandle, op: Operation, names: list[str], control: Control | None) -> list:
    """Records for ``names``; with control the tenant's clock moves between them so timestamps differ."""
    made = []
    for text in names:
        made.append(create(api, tenant, op, text))
        if control is not None and tenant.tenant_id is not None:
            control.move_clock(tenant.tenant_id, advance_seconds=7)
    return made


texts = st.text(alphabet=ALNUM, min_size=1, max_size=10)


def new_texts(op: Operation, most: int = 4) -> st.SearchStrategy[list[str]]:
    return st.lists(texts, max_size=min(most, MOST_CREATED.get(op.collection, most)))


# --- reading lists ----------------------------------------------------------------------------------


def get_page(api: Api, op: Operation, params: dict[str, Any]) -> dict:
    response = api.get(op.path, params=params)
    assert response.status_code == 200, f"{op.path} {params}: {response.status_code} {response.text}"
    body = response.json()
    assert isinstance(body.get("data"), list), body
    return body


def fetch_all(api: Api, op: Operation, params: dict[str, Any] | None = None) -> list[dict]:
    """Every item, paged with the documented ``page``/``per_page`` only: a short page is the last."""
    items: list[dict] = []
    for page in range(1, 10_000):
        data = get_page(api, op, {**(params or {}), "per_page": MAX_PER_PAGE, "page": page})["data"]
        items += data
        if len(data) < MAX_PER_PAGE:
            return items
    raise AssertionError("the list never ends")


def follow(api: Api, link: str) -> dict:
    """GET a pagination link (an absolute URL under the target's base URL)."""
    base = urlsplit(api.target.base_url).path.rstrip("/")
    parts = urlsplit(link)
    assert parts.path.startswith(base + "/"), f"link {link!r} is not under {api.target.base_url}"
    response = api.get(parts.path[len(base):] + (f"?{parts.query}" if parts.query else ""))
    assert response.status_code == 200, f"{link}: {response.status_code} {response.text}"
    return response.json()


def total_of(api: Api, op: Operation) -> int:
    return get_page(api, op, {"per_page": 1})["meta"]["total"]


# --- sorting ----------------------------------------------------------------------------------------


class Details:
    """Field values read from an item's Get operation, for sort fields a list item does not show."""

    def __init__(self, api: Api, op: Operation) -> None:
        self.api = api
        self.path = op.path + "/{id}"
        self.cache: dict[Any, dict] = {}

    def value(self, item: dict, field: str) -> Any:
        if field in item:
            return item[field]
        if item["id"] not in self.cache:
            response = self.api.get(self.path.replace("{id}", str(item["id"])))
            assert response.status_code == 200, f"{field} is not in the list items and Get failed: {response.text}"
            self.cache[item["id"]] = response.json()["data"]
        return self.cache[item["id"]][field]


def in_order(keys: list[tuple], descending: list[bool], fold: bool, nulls_low: bool) -> bool:
    """Whether the key tuples are ordered, under one collation choice (case folded or not, nulls low or high)."""

    def norm(value: Any) -> tuple:
        if value is None:
            return (0,) if nulls_low else (2,)
        return (1, value.casefold() if fold and isinstance(value, str) else value)

    for left, right in zip(keys, keys[1:], strict=False):
        for a, b, desc in zip(left, right, descending, strict=True):
            a, b = norm(a), norm(b)
            if a != b:
                if (a > b) != desc:
                    return False
                break
    return True


def assert_sorted(keys: list[tuple], descending: list[bool], sort: str) -> None:
    """Ties may come in any order and collations differ: accept case-folded or exact order, nulls first or last."""
    choices = [(fold, low) for fold in (True, False) for low in (True, False)]
    assert any(in_order(keys, descending, fold, low) for fold, low in choices), f"sort={sort}: keys out of order: {keys}"


# --- D3 page envelope -------------------------------------------------------------------------------


def assert_page(body: dict, page: int, per_page: int, total: int) -> None:
    """D3: the page's meta and links agree with the page number, page size and total."""
    meta, links, data = body["meta"], body["links"], body["data"]
    last_page = max(1, math.ceil(total / per_page))
    expected_size = max(0, min(per_page, total - (page - 1) * per_page))
    assert len(data) == expected_size, f"page {page}: {len(data)} items, expected {expected_size}"
    assert {k: meta[k] for k in ("current_page", "per_page", "total", "last_page")} == {
        "current_page": page, "per_page": per_page, "total": total, "last_page": last_page}, meta
    if data:
        assert (meta["from"], meta["to"]) == ((page - 1) * per_page + 1, (page - 1) * per_page + len(data)), meta
    else:
        assert meta["from"] is None and meta["to"] is None, meta
    assert set(links) == set(LINKS), links
    assert isinstance(links["first"], str) and isinstance(links["last"], str), links
    if page <= last_page:
        assert (links["prev"] is None) == (page == 1), links
        assert (links["next"] is None) == (page == last_page), links


@pytest.mark.parametrize("op", list_cases(lambda op: False))
def test_list_envelope_shape(api, op):
    """A list answer has ``data`` (array), ``meta`` with current_page, per_page, total, last_page, from, to beside
    request_id and timestamp, and ``links`` first/last/prev/next; by default page 1 of 15 items.

    assumed (D3; the defaults page=1, per_page=15 are documented on the list pages).
    """
    body = get_page(api, op, {})
    assert set(PAGE_META) <= set(body["meta"]), body["meta"]
    assert body["success"] is True and {"request_id", "timestamp"} <= set(body["meta"]), body
    assert_page(body, 1, DEFAULT_PER_PAGE, body["meta"]["total"])


@pytest.mark.parametrize("op", list_cases(lambda op: False))
def test_pages_cover_the_list_exactly_once(api, tenant, control, op):
    """For any per_page in 1..100, following ``links.next`` from page 1 visits every record exactly once:
    total is what the list held before plus the K records made, last_page = ceil(total/per_page) (at least 1),
    from/to number the items, and the page after the last is empty with from/to null. ``first``, ``last`` and
    ``prev`` lead where they say.

    assumed (D3).
    """

    @given(made=st.integers(0, MOST_CREATED.get(op.collection, 25)), per_page=st.integers(1, MAX_PER_PAGE))
    def check(made, per_page):
        total = total_of(api, op) + made
        created = create_many(api, tenant, op, [f"Page{n}" for n in range(made)], None)
        pages = [get_page(api, op, {"per_page": per_page, "page": 1})]
        while pages[-1]["links"]["next"] is not None and len(pages) <= total:
            pages.append(follow(api, pages[-1]["links"]["next"]))
        last_page = max(1, math.ceil(total / per_page))
        assert len(pages) == last_page, f"{len(pages)} pages by links.next, last_page should be {last_page}"
        for number, body in enumerate(pages, 1):
            assert_page(body, number, per_page, total)
        ids = [item["id"] for body in pages for item in body["data"]]
        assert len(ids) == len(set(ids)) == total, f"ids over the pages: {ids}"
        assert {i for i in created if i is not None} <= set(ids)
        assert follow(api, pages[0]["links"]["last"])["meta"]["current_page"] == last_page
        assert follow(api, pages[-1]["links"]["first"])["meta"]["current_page"] == 1
        if last_page > 1:
            assert follow(api, pages[1]["links"]["prev"])["meta"]["current_page"] == 1
        assert_page(get_page(api, op, {"per_page": per_page, "page": last_page + 1}), last_page + 1, per_page, total)

    check()


def bad_paging() -> st.SearchStrategy[tuple[str, Any]]:
    return st.one_of(
        st.tuples(st.just("per_page"), st.integers(MAX_PER_PAGE + 1, 10**6)),
        st.tuples(st.just("per_page"), st.integers(-10**6, 0)),
        st.tuples(st.just("page"), st.integers(-10**6, 0)),
    )


def unknown_sorts(op: Operation) -> st.SearchStrategy[str]:
    fields = set(op.sort_fields)
    unknown = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=15).filter(lambda f: f not in fields)
    signed = st.tuples(st.sampled_from(["", "-"]), unknown).map("".join)
    with_known = st.tuples(st.sampled_from(op.sort_fields), signed).map(lambda pair: f"{pair[0]},{pair[1]}")
    return st.one_of(signed, with_known)


@pytest.mark.parametrize("op", list_cases(lambda op: False))
def test_out_of_range_paging_or_unknown_sort_is_422(api, op):
    """per_page above 100 or below 1, page below 1, or a sort naming a field the list does not allow is a 422
    VALIDATION_ERROR whose details name that parameter.

    assumed (D3, D4; the 100 maximum is documented).
    """

    @given(bad=st.one_of(bad_paging(), st.tuples(st.just("sort"), unknown_sorts(op))))
    def check(bad):
        name, value = bad
        response = api.get(op.path, params={name: value})
        assert response.status_code == 422, f"{name}={value!r}: {response.status_code} {response.text}"
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR" and error["details"].get(name), error

    check()


# --- sorting, search, filters -----------------------------------------------------------------------


@pytest.mark.parametrize(("op", "field"), sort_cases())
def test_sort_orders_the_whole_list(api, tenant, control, op, field):
    """``sort=field`` orders the whole list ascending, ``-field`` descending, and a second field breaks ties;
    only the sequence of sort keys is compared (ties in any order).

    documented (``sort``, comma-separated with ``-`` for descending, and its fields on the list page), assumed (D3)
    for lists whose page was not readable.
    """
    details = Details(api, op)

    @given(made=new_texts(op, 3), second=st.sampled_from(op.sort_fields), desc=st.booleans(), then_desc=st.booleans())
    def check(made, second, desc, then_desc):
        create_many(api, tenant, op, made, control)
        orders = [[(field, False)], [(field, True)]]
        if second != field:
            orders.append([(field, desc), (second, then_desc)])
        for order in orders:
            sort = ",".join(("-" if d else "") + f for f, d in order)
            items = fetch_all(api, op, {"sort": sort})
            keys = [tuple(details.value(item, f) for f, _ in order) for item in items]
            assert_sorted(keys, [d for _, d in order], sort)

    check()


def searchable(item: dict, fields: list[str]) -> list[str]:
    return [str(item[f]) for f in fields if item.get(f) is not None]


def contains(item: dict, term: str, fields: list[str]) -> bool:
    return any(term.casefold() in value.casefold() for value in searchable(item, fields))


@pytest.mark.parametrize("op", [p for p in list_cases(list_documented) if p.values[0].ext("search-fields")])
def test_search_finds_exactly_the_matching_items(api, tenant, op):
    """``search`` (or its alias ``q``) returns every item holding the term, case-insensitively, in one of the
    list's search fields, and only such items (checked where the list items show every search field).

    documented (``search``/``q`` and the search fields on the list page), assumed (D3) where the page was not
    readable.
    """
    fields = op.ext("search-fields")

    @given(made=new_texts(op), own=picks, random_term=texts, parameter=st.sampled_from(["search", "q"]))
    def check(made, own, random_term, parameter):
        create_many(api, tenant, op, made, None)
        everything = fetch_all(api, op)
        visible = [f for f in fields if any(f in item for item in everything)]
        words = sorted({value for item in everything for value in searchable(item, visible)})
        term = piece_of(words, own) or random_term
        found = fetch_all(api, op, {parameter: term})
        expected = {item["id"] for item in everything if contains(item, term, visible)}
        assert expected <= {item["id"] for item in found}, f"{parameter}={term!r} missed {expected - {i['id'] for i in found}}"
        if visible == fields:
            strays = [item for item in found if not contains(item, term, fields)]
            assert not strays, f"{parameter}={term!r} returned items without it: {strays}"

    check()


# Which existing value to cut a term from, and where: drawn as plain numbers so that what Hypothesis draws
# never depends on the records the target holds (that would make its data generation flaky).
picks = st.one_of(st.none(), st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6), st.booleans()))


def piece_of(words: list[str], pick: tuple | None) -> str | None:
    """An alphanumeric piece of one of the values (no LIKE wildcards, no spaces a server might trim), case
    swapped or not; None when there is no pick or the piece has no letter or digit."""
    if pick is None or not words:
        return None
    which, start, length, swap = pick
    word = "".join(c for c in words[which % len(words)] if c.isascii() and c.isalnum())
    if not word:
        return None
    start %= len(word)
    text = word[start:start + 1 + length % (len(word) - start)]
    return text.swapcase() if swap else text


def matches(item: dict, field: str, value: Any) -> bool:
    """Exact match; strings compare case-insensitively (a case-insensitive collation is not wrong); arrays contain."""
    actual = item.get(field)
    if isinstance(actual, list):
        return value in actual
    if isinstance(actual, str) and isinstance(value, str):
        return actual.casefold() == value.casefold()
    return actual == value


@pytest.mark.parametrize(("op", "field"), filter_cases())
def test_exact_filter_returns_exactly_the_matching_items(api, tenant, op, field):
    """``filter[field]=value`` returns only items whose field equals the value (array fields: contain it), and
    every item whose field is exactly that value.

    documented (the ``filter[...]`` rows of List Contacts, List Messages, ...), assumed (D3) where the spec marks the
    filter assumed.
    """
    kind = op.ext("filters")[field]["type"]
    details = Details(api, op)

    @given(made=new_texts(op, 2), own=st.one_of(st.none(), st.integers(0, 10**6)), other=other_values(op, field, kind))
    def check(made, own, other):
        create_many(api, tenant, op, made, None)
        everything = fetch_all(api, op)
        present = sorted({v for item in everything for v in values_of(details.value(item, field))}, key=repr)
        value = present[own % len(present)] if own is not None and present else other
        if value is None:
            return  # a date filter, and no item to take a date from
        found = fetch_all(api, op, {f"filter[{field}]": value})
        strays = [item for item in found if not matches(item_with(details, item, field), field, value)]
        assert not strays, f"filter[{field}]={value!r} returned items that do not match: {strays}"
        expected = {item["id"] for item in everything if value in values_of(details.value(item, field))}
        assert expected <= {item["id"] for item in found}, f"filter[{field}]={value!r} missed {expected}"

    check()


def other_values(op: Operation, field: str, kind: str) -> st.SearchStrategy[Any]:
    """Values the filter accepts that no item may have: random ids or words, the enum's values; none for dates."""
    enum = op.query_schemas[f"filter[{field}]"].get("enum")
    if enum:
        return st.sampled_from(enum)
    if kind == "integer":
        return st.integers(1, 10**9)
    return st.none() if kind == "datetime" else texts


def values_of(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def item_with(details: Details, item: dict, field: str) -> dict:
    return item if field in item else {**item, field: details.value(item, field)}
