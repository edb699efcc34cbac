"""Properties of the list operations (those with ``x-sort-fields``): pages, sorting, search and exact filters.

Hypothesis creates records through the API (sources, statuses, groups, contacts
and, by sending texts, messages; templates come only from the tenant's own
set), draws page sizes, sort orders, search terms and filter values, and every
answer is compared with what Python computes from the complete list. Counts
are always read from the target before records are made: seed data is never
assumed.

Provenance: the page envelope, its invariants and the 422s for paging and for an
unknown sort field are D3. Sorting, search and exact filters are checked only where
the spec's ``x-list-provenance`` (``sort_fields``, ``search_fields``,
``search_alias_q``) and each ``x-filters`` entry's ``provenance`` give them a tier
that is not the mock's choice (D19: the sort, search and filter sets of a list whose
page was not read are free, and so are its default order, extra operators, and
whether an unknown filter or include is refused or ignored). A value is read only
from a field the spec's response schema does not mark as the mock's, so a server
that shows only the documented fields is judged by them alone. Where docs leave the
collation open (case, accents, punctuation; MySQL ``_ci``, PostgreSQL ICU), every
collation a real database uses is accepted. The documented checks page with
``page``/``per_page`` alone (a short page is the last), not with D3's ``meta``.
"""

from __future__ import annotations

import math
import secrets
import string
import unicodedata
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from contract_tests import contract, records
from contract_tests.contract import Tier, weakest
from contract_tests.operations import fill, record_read
from contract_tests.reader import ContractOperation as Operation
from contract_tests.reader import merge_all_of
from contract_tests.target import Api, Control, TenantHandle, list_items

LIST_OPS: list[Operation] = [op for op in contract.spec().operations.values() if op.sort_fields]
PAGE_META = ("current_page", "per_page", "total", "last_page", "from", "to")
LINKS = ("first", "last", "prev", "next")
DEFAULT_PER_PAGE = 15
MAX_PER_PAGE = 100
# Messages are made by sending WhatsApp texts: keep their number small.
MOST_CREATED = {"messages": 4, "templates": 0}
ALNUM = string.ascii_letters + string.digits
CONTACT_TYPES: list[str] = list(contract.spec().operation("createContact").body_fields["type"].schema["enum"])
# Paging, the D3 envelope and its 422s hold for every list, whatever its page says.
PAGE_TIER: Tier = "decided"


# --- the spec: tiers of list behaviour --------------------------------------------------------------


def list_tier(op: Operation, key: str) -> Tier:
    """The tier of one list behaviour (``x-list-provenance``); unmarked, it is the mock's choice (D19)."""
    marked = (op.ext("list-provenance") or {}).get(key)
    return contract.tier_of(marked) if marked else "mock"


def filter_tier(op: Operation, field: str) -> Tier:
    """The tier of ``filter[field]`` (its ``x-filters`` entry's ``provenance``); unmarked: the mock's choice."""
    marked = ((op.ext("filters") or {}).get(field) or {}).get("provenance")
    return contract.tier_of(marked) if marked else "mock"


def data_schema(op: Operation) -> dict:
    """The schema of ``data`` in the operation's success answer (an item schema for lists)."""
    body = op.raw["responses"][str(op.success_status)]["content"]["application/json"]["schema"]
    data = merge_all_of(merge_all_of(body).get("properties", {}).get("data", {}))
    return merge_all_of(data.get("items", {})) if data.get("type") == "array" else data


def field_tiers(schema: dict) -> dict[str, Tier]:
    """The resource fields a check may read: every property the spec does not mark as the mock's (D19); none of
    a schema the spec marks as the mock's as a whole (the items of List Groups and List Templates, whose response
    tables the docs do not give)."""
    if contract.tier_of(schema.get("x-provenance")) == "mock" and "x-provenance" in schema:
        return {}
    tiers = {
        name: contract.tier_of(sub.get("x-provenance")) for name, sub in schema.get("properties", {}).items()
    }
    return {name: tier for name, tier in tiers.items() if tier != "mock"}


def getter(op: Operation) -> Operation | None:
    """The operation that reads one record of the list ``op`` shows."""
    spec = contract.spec()
    return next(
        (
            o
            for o in spec.operations.values()
            if o.record and record_read(o) and spec.list_operation(o.record) is op
        ),
        None,
    )


def marks(op: Operation, tier: Tier, makes_records: bool = True) -> list:
    found = [*contract.tier_marks(tier), pytest.mark.operation(op.operation_id)]
    if makes_records and op.collection in contract.spec().made_by_sending:
        found.append(pytest.mark.sends)  # such records are made by sending messages
    return found


class Fields:
    """Reads field values of a list's items: from the item, else from the record's Get answer.

    Only fields the spec does not mark as the mock's are read. The Get path names a
    record by the key the list item shows (``template_id`` for templates, D8).
    """

    def __init__(self, api: Api | None, op: Operation) -> None:
        self.api = api
        self.op = op
        item = data_schema(op)
        self.listed = field_tiers(item)
        self.required = set(item.get("required", ()))
        get_op = getter(op)
        self.key = get_op.record.field if get_op is not None and get_op.record else "id"
        self.path = get_op.path if get_op is not None else None
        self.fetched = (
            field_tiers(data_schema(get_op)) if get_op is not None and self.key in self.listed else {}
        )
        self.cache: dict[Any, dict] = {}

    def tier(self, field: str) -> Tier | None:
        """How well the value of ``field`` is known, or None when no documented or decided field holds it."""
        if field in self.listed:
            return self.listed[field]
        return weakest(self.fetched[field], self.listed[self.key]) if field in self.fetched else None

    def value(self, item: dict, field: str) -> Any:
        if field in item:
            return item[field]
        assert field not in self.required, (
            f"{self.op.operation_id}: item without its required field {field}: {item}"
        )
        if field not in self.fetched or self.key not in item:
            raise Unreadable(field)
        record = item[self.key]
        if record not in self.cache:
            assert self.api is not None and self.path is not None, (
                "fields are fetched only with a Get operation"
            )
            response = self.api.get(fill(self.path, str(record)))
            assert response.status_code == 200, (
                f"{field} is not in the list items and Get failed: {response.text}"
            )
            self.cache[record] = response.json()["data"]
        if field not in self.cache[record]:
            raise Unreadable(field)
        return self.cache[record][field]


class Unreadable(Exception):
    """A field the spec lets a server leave out is not in the answer: nothing can be judged by it."""


def sorted_tier(op: Operation, field: str) -> Tier | None:
    """The tier of checking ``sort=field``'s order, None when the list's sort set is the mock's choice.

    The ordering is read only from a field the checks may read; otherwise only the items are compared.
    """
    sort = list_tier(op, "sort_fields")
    if sort == "mock":
        return None
    read = Fields(None, op).tier(field)
    return weakest(sort, read) if read is not None else sort


def search_fields(op: Operation) -> list[str]:
    """The list's search fields whose values the items show (readable without a Get per item)."""
    listed = Fields(None, op).listed
    return [f for f in op.ext("search-fields") or () if f in listed]


def search_tier(op: Operation, parameter: str) -> Tier | None:
    tier = list_tier(op, "search_fields")
    if parameter == "q":
        tier = weakest(tier, list_tier(op, "search_alias_q"))
    if tier == "mock" or not search_fields(op):
        return None
    listed = Fields(None, op).listed
    return weakest(tier, *(listed[f] for f in search_fields(op)))


def exact_filters(op: Operation) -> list[str]:
    """Filters the operation declares in their exact form ``filter[field]``."""
    return [
        name[len("filter[") : -1]
        for name in op.query_schemas
        if name.startswith("filter[") and name.count("[") == 1
    ]


def exact_filter_tier(op: Operation, field: str) -> Tier | None:
    """None where the check would assert a mock's choice: the filter itself, an item field it cannot read, or an
    exact timestamp (the docs show ``created_at`` only with dates and operators)."""
    tier, read = filter_tier(op, field), Fields(None, op).tier(field)
    if tier == "mock" or read is None or (op.ext("filters") or {})[field].get("type") == "datetime":
        return None
    return weakest(tier, read)


def page_cases(makes_records: bool) -> list:
    return [
        pytest.param(op, id=op.operation_id, marks=marks(op, PAGE_TIER, makes_records)) for op in LIST_OPS
    ]


def unknown_sort_cases() -> list:
    """D3's 422 for an unknown sort field, on lists whose sort set is fixed (D19: elsewhere it is free)."""
    return [
        pytest.param(op, id=op.operation_id, marks=marks(op, weakest(PAGE_TIER, tier), makes_records=False))
        for op in LIST_OPS
        if (tier := list_tier(op, "sort_fields")) != "mock"
    ]


def sort_cases() -> list:
    return [
        pytest.param(op, name, id=f"{op.operation_id}.{name}", marks=marks(op, tier))
        for op in LIST_OPS
        for name in op.sort_fields
        if (tier := sorted_tier(op, name)) is not None
    ]


def search_cases() -> list:
    return [
        pytest.param(op, parameter, id=f"{op.operation_id}.{parameter}", marks=marks(op, tier))
        for op in LIST_OPS
        for parameter in ("search", "q")
        if (tier := search_tier(op, parameter)) is not None
    ]


def filter_cases() -> list:
    return [
        pytest.param(op, name, id=f"{op.operation_id}.{name}", marks=marks(op, tier))
        for op in LIST_OPS
        for name in exact_filters(op)
        if (tier := exact_filter_tier(op, name)) is not None
    ]


# --- collations ---------------------------------------------------------------------------------------


def folded(text: str) -> str:
    """Case folded with accents stripped: what an accent- and case-insensitive collation (MySQL ``_ci``) compares."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def loose(text: str) -> str:
    """``folded`` without punctuation and spaces: the first level of an ICU or glibc locale collation."""
    return "".join(c for c in folded(text) if c.isalnum())


COLLATIONS = (lambda text: text, str.casefold, folded, loose)


# --- making records ---------------------------------------------------------------------------------


def create(api: Api, tenant: TenantHandle, op: Operation, text: str) -> int | None:
    """One record of the list's collection whose searchable name holds ``text``; its id where the answer gives it."""
    collection = op.collection
    if collection == "contacts":
        # Vary the filterable fields too: the type, and group membership for every other record.
        kind = CONTACT_TYPES[len(text) % len(CONTACT_TYPES)]
        groups = [records.group(api)["id"]] if len(text) % 2 == 0 else []
        return records.contact(
            api, tenant, firstname=text, lastname=f"{text[::-1]}x", type=kind, groups=groups
        )["id"]
    if collection == "messages":
        response = api.post(
            "/messages/text", json={"phone": records.unique_phone(), "message": f"Note {text}"}
        )
        assert response.status_code == 200, response.text
        return None
    assert collection is not None, f"{op.operation_id} lists no collection"
    body = {"name": f"{text} {secrets.token_hex(4)}"}
    if collection == "statuses":
        body["color"] = "#FF5733"
    # 200 or 201: a create's success status is D5's, and this only makes a record for the list to show.
    return records.created(api.post(f"/{collection}", json=body), collection)["id"]


def create_many(
    api: Api, tenant: TenantHandle, op: Operation, names: list[str], control: Control | None
) -> list:
    """Records for ``names``; with control the tenant's clock moves between them so timestamps differ."""
    made = []
    for text in names:
        made.append(create(api, tenant, op, text))
        if control is not None and tenant.tenant_id is not None:
            control.move_clock(tenant.tenant_id, advance_seconds=7)
    return made


texts = st.text(alphabet=ALNUM, min_size=1, max_size=10)


def new_texts(op: Operation, most: int = 4) -> st.SearchStrategy[list[str]]:
    return st.lists(texts, max_size=min(most, MOST_CREATED.get(op.collection or "", most)))


# --- reading lists ----------------------------------------------------------------------------------


def get_page(api: Api, op: Operation, params: dict[str, Any]) -> dict:
    response = api.get(op.path, params=params)
    assert response.status_code == 200, f"{op.path} {params}: {response.status_code} {response.text}"
    body = response.json()
    assert isinstance(body.get("data"), list), body
    return body


def follow(api: Api, link: str) -> dict:
    """GET a pagination link (an absolute URL under the target's base URL)."""
    base = urlsplit(api.target.base_url).path.rstrip("/")
    parts = urlsplit(link)
    assert parts.path.startswith(base + "/"), f"link {link!r} is not under {api.target.base_url}"
    response = api.get(parts.path[len(base) :] + (f"?{parts.query}" if parts.query else ""))
    assert response.status_code == 200, f"{link}: {response.status_code} {response.text}"
    return response.json()


def total_of(api: Api, op: Operation) -> int:
    return get_page(api, op, {"per_page": 1})["meta"]["total"]


def ids_of(items: list[dict]) -> list:
    return [item["id"] for item in items]


# --- sorting ----------------------------------------------------------------------------------------


def in_order(keys: list[tuple], descending: list[bool], collate, nulls_low: bool) -> bool:
    """Whether the key tuples are ordered under one collation (keys equal under it are ties, in any order)."""

    def norm(value: Any) -> tuple:
        if value is None:
            return (0,) if nulls_low else (2,)
        return (1, collate(value) if isinstance(value, str) else value)

    for left, right in zip(keys, keys[1:], strict=False):
        for a, b, desc in zip(left, right, descending, strict=True):
            a, b = norm(a), norm(b)
            if a != b:
                if (a > b) != desc:
                    return False
                break
    return True


def assert_sorted(keys: list[tuple], descending: list[bool], sort: str) -> None:
    """Ties may come in any order and collations differ: exact, case-, accent- or punctuation-insensitive;
    nulls first or last."""
    choices = [(collate, low) for collate in COLLATIONS for low in (True, False)]
    assert any(in_order(keys, descending, collate, low) for collate, low in choices), (
        f"sort={sort}: keys out of order: {keys}"
    )


# --- D3 page envelope -------------------------------------------------------------------------------


def assert_page(body: dict, page: int, per_page: int, total: int) -> None:
    """D3: the page's meta and links agree with the page number, page size and total."""
    meta, links, data = body["meta"], body["links"], body["data"]
    last_page = max(1, math.ceil(total / per_page))
    expected_size = max(0, min(per_page, total - (page - 1) * per_page))
    assert len(data) == expected_size, f"page {page}: {len(data)} items, expected {expected_size}"
    assert {k: meta[k] for k in ("current_page", "per_page", "total", "last_page")} == {
        "current_page": page,
        "per_page": per_page,
        "total": total,
        "last_page": last_page,
    }, meta
    if data:
        assert (meta["from"], meta["to"]) == ((page - 1) * per_page + 1, (page - 1) * per_page + len(data)), (
            meta
        )
    else:
        assert meta["from"] is None and meta["to"] is None, meta
    assert set(LINKS) <= set(links), links  # D19: further keys are free
    assert isinstance(links["first"], str) and isinstance(links["last"], str), links
    if page <= last_page:
        assert (links["prev"] is None) == (page == 1), links
        assert (links["next"] is None) == (page == last_page), links


@pytest.mark.parametrize("op", page_cases(makes_records=False))
def test_list_envelope_shape(api, op):
    """A list answer has ``data`` (array), ``meta`` with current_page, per_page, total, last_page, from, to beside
    request_id and timestamp, and ``links`` first/last/prev/next; by default page 1 of 15 items.

    assumed (D3; the defaults page=1, per_page=15 are documented on the list pages).
    """
    body = get_page(api, op, {})
    assert set(PAGE_META) <= set(body["meta"]), body["meta"]
    assert body["success"] is True and {"request_id", "timestamp"} <= set(body["meta"]), body
    assert_page(body, 1, DEFAULT_PER_PAGE, body["meta"]["total"])


@pytest.mark.parametrize("op", page_cases(makes_records=True))
def test_pages_cover_the_list_exactly_once(api, tenant, control, op):
    """For any per_page in 1..100, following ``links.next`` from page 1 visits every record exactly once:
    total is what the list held before plus the K records made, last_page = ceil(total/per_page) (at least 1),
    from/to number the items, and the page after the last is empty with from/to null. ``first``, ``last`` and
    ``prev`` lead where they say.

    assumed (D3).
    """

    @given(
        made=st.integers(0, MOST_CREATED.get(op.collection, 25)),
        per_page=st.one_of(
            st.sampled_from([1, 2, MAX_PER_PAGE - 1, MAX_PER_PAGE]), st.integers(1, MAX_PER_PAGE)
        ),
    )
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
        assert_page(
            get_page(api, op, {"per_page": per_page, "page": last_page + 1}), last_page + 1, per_page, total
        )

    check()


def bad_paging() -> st.SearchStrategy[tuple[str, Any]]:
    """Paging D3 refuses; the values next to the bounds (per_page 0 and 101, page 0) come first."""
    return st.one_of(
        st.sampled_from(
            [("per_page", 0), ("per_page", MAX_PER_PAGE + 1), ("page", 0), ("per_page", -1), ("page", -1)]
        ),
        st.tuples(st.just("per_page"), st.integers(MAX_PER_PAGE + 1, 10**6)),
        st.tuples(st.just("per_page"), st.integers(-(10**6), 0)),
        st.tuples(st.just("page"), st.integers(-(10**6), 0)),
    )


def assert_refused(api: Api, op: Operation, name: str, value: Any) -> None:
    """D3/D4: a 422 VALIDATION_ERROR whose details name the parameter."""
    response = api.get(op.path, params={name: value})
    assert response.status_code == 422, f"{name}={value!r}: {response.status_code} {response.text}"
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR" and error["details"].get(name), error


@pytest.mark.parametrize("op", page_cases(makes_records=False))
def test_out_of_range_paging_is_422(api, op):
    """per_page above 100 or below 1, or page below 1, is a 422 VALIDATION_ERROR whose details name that parameter.

    assumed (D3, D4; the 100 maximum is documented).
    """

    @example(
        bad=("per_page", MAX_PER_PAGE + 1)
    )  # the documented maximum's first value beyond, whatever is drawn
    @given(bad=bad_paging())
    def check(bad):
        assert_refused(api, op, *bad)

    check()


def camel(field: str) -> str:
    head, *rest = field.split("_")
    return head + "".join(part.capitalize() for part in rest)


def near_miss_sorts(op: Operation) -> list[str]:
    """Names close to an allowed sort field but not one: case, a suffix or prefix, camelCase, a cut; and the
    fields of the item and of the other lists that this list does not sort by (List Groups has no ``id``)."""
    fields = set(op.sort_fields)
    close = {
        variant
        for f in fields
        for variant in (
            f.upper(),
            f.capitalize(),
            f + "s",
            f + "_",
            "_" + f,
            f[:-1],
            camel(f),
            f.replace("_", ""),
            f + "_id",
        )
    }
    elsewhere = set(Fields(None, op).listed) | {f for other in LIST_OPS for f in other.sort_fields}
    return sorted(name for name in close | elsewhere if name and name not in fields)


def unknown_sorts(op: Operation) -> st.SearchStrategy[str]:
    fields = set(op.sort_fields)
    random_names = st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=15).filter(
        lambda f: f not in fields
    )
    unknown = st.one_of(st.sampled_from(near_miss_sorts(op)), random_names)
    signed = st.tuples(st.sampled_from(["", "-"]), unknown).map("".join)
    with_known = st.tuples(st.sampled_from(op.sort_fields), signed).map(lambda pair: f"{pair[0]},{pair[1]}")
    return st.one_of(signed, with_known)


@pytest.mark.parametrize("op", unknown_sort_cases())
def test_unknown_sort_is_422(api, op):
    """A sort naming a field the list does not allow, alone or after an allowed one, is a 422 VALIDATION_ERROR
    whose details name ``sort``; close misses of an allowed field (``Name``, ``names``, ``createdAt``) included.

    assumed (D3, D4; the allowed fields are documented on the list page).
    """

    @given(sort=unknown_sorts(op))
    def check(sort):
        assert_refused(api, op, "sort", sort)

    check()


# --- sorting, search, filters -----------------------------------------------------------------------


@pytest.mark.parametrize(("op", "field"), sort_cases())
def test_sort_orders_the_whole_list(api, tenant, control, op, field):
    """``sort=field`` orders the whole list ascending, ``-field`` descending, and a second field breaks ties;
    only the sequence of sort keys is compared (ties in any order). Where the items do not show the field
    (the spec marks it the mock's, or a server may leave it out), the sorted list holds the same items.

    documented (``sort``, comma-separated with ``-`` for descending, and its fields on the list page).
    """
    fields = Fields(api, op)
    readable = [f for f in op.sort_fields if fields.tier(f) is not None]

    @given(
        made=new_texts(op, 3),
        second=st.sampled_from(readable or [field]),
        desc=st.booleans(),
        then_desc=st.booleans(),
    )
    def check(made, second, desc, then_desc):
        create_many(api, tenant, op, made, control)
        everything = sorted(ids_of(api.list_all(op.path)), key=repr)
        orders = [[(field, False)], [(field, True)]]
        if second != field:
            orders.append([(field, desc), (second, then_desc)])
        for order in orders:
            sort = ",".join(("-" if d else "") + f for f, d in order)
            items = api.list_all(op.path, {"sort": sort})
            assert sorted(ids_of(items), key=repr) == everything, f"sort={sort} changed the items of the list"
            try:
                keys = [tuple(fields.value(item, f) for f, _ in order) for item in items]
            except Unreadable:
                continue
            assert_sorted(keys, [d for _, d in order], sort)

    check()


def searchable(item: dict, fields: list[str]) -> list[str]:
    return [str(item[f]) for f in fields if item.get(f) is not None]


def holds(item: dict, term: str, fields: list[str], collate) -> bool:
    return any(collate(term) in collate(value) for value in searchable(item, fields))


@pytest.mark.parametrize(("op", "parameter"), search_cases())
def test_search_finds_exactly_the_matching_items(api, tenant, op, parameter):
    """``search`` (and ``q`` where it is its documented alias) returns every item holding the term, exactly as
    written, in one of the list's search fields, and (where the items show every search field) only items
    holding it under some collation: case- and accent-insensitive matches are not strays.

    documented (``search``/``q`` and the search fields on the list page; "partial match").
    """
    fields = search_fields(op)
    complete = fields == list(op.ext("search-fields"))

    @given(made=new_texts(op), own=picks, random_term=texts)
    def check(made, own, random_term):
        create_many(api, tenant, op, made, None)
        everything = api.list_all(op.path)
        words = sorted({value for item in everything for value in searchable(item, fields)})
        term = piece_of(words, own) or random_term
        found = api.list_all(op.path, {parameter: term})
        expected = {item["id"] for item in everything if holds(item, term, fields, lambda text: text)}
        missed = expected - set(ids_of(found))
        assert not missed, f"{parameter}={term!r} missed {missed}"
        if complete:
            strays = [item for item in found if not holds(item, term, fields, folded)]
            assert not strays, f"{parameter}={term!r} returned items without it: {strays}"

    check()


# Which existing value to cut a term from, and where: drawn as plain numbers so that what Hypothesis draws
# never depends on the records the target holds (that would make its data generation flaky).
picks = st.one_of(
    st.none(), st.tuples(st.integers(0, 10**6), st.integers(0, 10**6), st.integers(0, 10**6), st.booleans())
)


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
    text = word[start : start + 1 + length % (len(word) - start)]
    return text.swapcase() if swap else text


def matches(actual: Any, value: Any) -> bool:
    """Exact match; strings also under a case- and accent-insensitive collation (not wrong); arrays contain."""
    if isinstance(actual, list):
        return value in actual
    if isinstance(actual, str) and isinstance(value, str):
        return folded(actual) == folded(value)
    return actual == value


@pytest.mark.parametrize(("op", "field"), filter_cases())
def test_exact_filter_returns_exactly_the_matching_items(api, tenant, op, field):
    """``filter[field]=value`` returns only items whose field equals the value (array fields: contain it), and
    every item whose field is exactly that value.

    documented (the ``filter[...]`` rows of List Contacts, List Messages, List Authentication Templates).
    """
    fields = Fields(api, op)

    @given(
        made=new_texts(op, 2), own=st.one_of(st.none(), st.integers(0, 10**6)), other=other_values(op, field)
    )
    def check(made, own, other):
        create_many(api, tenant, op, made, None)
        try:
            everything = [(item, fields.value(item, field)) for item in api.list_all(op.path)]
            present = sorted({v for _, value in everything for v in values_of(value)}, key=repr)
            value = present[own % len(present)] if own is not None and present else other
            found = [
                (item, fields.value(item, field))
                for item in api.list_all(op.path, {f"filter[{field}]": value})
            ]
        except Unreadable:
            return  # the server leaves the field out, as the spec allows: nothing to compare
        strays = [item for item, actual in found if not matches(actual, value)]
        assert not strays, f"filter[{field}]={value!r} returned items that do not match: {strays}"
        expected = {item["id"] for item, actual in everything if value in values_of(actual)}
        missed = expected - set(ids_of([item for item, _ in found]))
        assert not missed, f"filter[{field}]={value!r} missed {missed}"

    check()


def other_values(op: Operation, field: str) -> st.SearchStrategy[Any]:
    """Values the filter accepts that no item may have: random ids or words, the enum's values."""
    enum = op.query_schemas[f"filter[{field}]"].get("enum")
    if enum:
        return st.sampled_from(enum)
    return st.integers(1, 10**9) if op.ext("filters")[field]["type"] == "integer" else texts


def values_of(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


# --- documented query features, one targeted example each (no D3 meta, no control API) -------------------------

SPEC = contract.spec()
DOCUMENTED_PER_PAGE, DOCUMENTED_PAGE = (
    15,
    1,
)  # List Contacts, List Groups, List Messages, List Templates: defaults
# The filter operators of List Contacts, each with the field of its verbatim example and its alias where the docs
# give one (``filter[created_at][gte]=2025-01-01``, alias ``>=``); the spec's ``x-filters`` lists which operators
# each field takes, but not which pairs the docs show (D19: others are free).
CONTACT_OPERATOR_EXAMPLES = (
    ("created_at", "gte", ">="),
    ("created_at", "lte", "<="),
    ("created_at", "gt", ">"),
    ("created_at", "lt", "<"),
    ("status_id", "ne", "!="),
    ("type", "like", None),
    ("status_id", "in", None),
    ("status_id", "not_in", None),
    ("created_at", "between", None),
    ("assigned_id", "null", None),
)
# List Messages' documented operators, with the fields of their verbatim examples.
MESSAGE_OPERATOR_EXAMPLES = (("status", "ne"), ("type", "in"), ("type", "not_in"))
# The lists whose pages document ``fields`` (List Contacts' row was not captured: its ``fields`` is the mock's).
FIELD_SELECTING = ("listMessages", "listTemplates")
MESSAGE_TYPES = (
    "text",
    "template",
    "image",
    "video",
    "document",
    "audio",
    "interactive",
)  # List Messages, e.g.
MESSAGE_STATUSES: list[str] = list(
    SPEC.operation("listMessages").query_schemas["filter[status]"]["enum"]
)  # documented values


def listed_by_operators(op: Operation, field: str, operator: str) -> None:
    filters = op.ext("filters") or {}
    # YAML reads an unquoted ``null`` in a flow list as None: the spec's ``[..., null]`` means the operator.
    taken = ["null" if name is None else name for name in filters.get(field, {}).get("operators", ())]
    assert operator in taken, (
        f"{op.operation_id}: the docs show filter[{field}][{operator}], the spec's x-filters do not take it"
    )


for _field, _operator, _alias in CONTACT_OPERATOR_EXAMPLES:
    listed_by_operators(SPEC.operation("listContacts"), _field, _operator)
for _field, _operator in MESSAGE_OPERATOR_EXAMPLES:
    listed_by_operators(SPEC.operation("listMessages"), _field, _operator)


def documented_marks(*operation_ids: str, sends: bool = False) -> list:
    return [pytest.mark.documented, pytest.mark.operation(*operation_ids)] + (
        [pytest.mark.sends] if sends else []
    )


def found_ids(api: Api, path: str, params: dict[str, Any]) -> set:
    """The ids a list shows for ``params``, page by page with ``page``/``per_page`` alone."""
    return set(ids_of(api.list_all(path, params)))


def page_items(api: Api, op: Operation, params: dict[str, Any]) -> list[dict]:
    """One page's items wherever the answer holds them (D3's ``data`` is not documented)."""
    response = api.get(op.path, params=params)
    assert response.status_code == 200, f"{op.path} {params}: {response.status_code} {response.text}"
    return list_items(response.json())


# Made once per token: against a live server every request counts (60 a minute). Each check narrows its list to
# these records with a search term only they hold, so other records of a shared tenant never interfere.
_OPERATOR_CONTACTS: dict[tuple[str, str], dict[str, Any]] = {}


def operator_contacts(api: Api, tenant: TenantHandle) -> dict[str, Any]:
    """Two contacts that differ in every documented filter field but the creation day: ``a`` a lead with the
    tenant's status and an assigned user, ``b`` a customer with a new status and none; ``term`` finds only them."""
    key = (api.target.base_url, api.token)
    if key not in _OPERATOR_CONTACTS:
        term = f"Op{secrets.token_hex(5)}"
        other_status = records.status(api)["id"]
        a = records.contact(api, tenant, firstname=term, type="lead", assigned_id=7)
        b = records.contact(api, tenant, firstname=term, type="customer", status_id=other_status)
        _OPERATOR_CONTACTS[key] = {"term": term, "a": a, "b": b}
    return _OPERATOR_CONTACTS[key]


def day(timestamp: str, shift: int) -> str:
    """The date ``shift`` days from a timestamp's own date: two days clear any server time zone."""
    return (date.fromisoformat(timestamp[:10]) + timedelta(days=shift)).isoformat()


def operator_expectations(operator: str, pair: dict[str, Any]) -> list[tuple[str, set]]:
    """Values of the operator's documented example field, each with the contacts of ``pair`` it must list."""
    a, b = pair["a"], pair["b"]
    neither: set[int] = set()
    both, only_a, only_b = {a["id"], b["id"]}, {a["id"]}, {b["id"]}
    created = a["created_at"]
    before, after, later = day(created, -2), day(created, 2), day(created, 4)
    other = a["status_id"] + b["status_id"]  # no status of either contact
    return {
        "gte": [(before, both), (after, neither)],
        "gt": [(before, both), (after, neither)],
        "lte": [(after, both), (before, neither)],
        "lt": [(after, both), (before, neither)],
        "between": [(f"{before},{after}", both), (f"{after},{later}", neither)],
        "ne": [(str(a["status_id"]), only_b)],
        "like": [("lea", only_a)],
        "in": [(f"{a['status_id']},{other}", only_a)],
        "not_in": [(f"{a['status_id']},{other}", only_b)],
        "null": [("true", only_b), ("false", only_a)],
    }[operator]


def contact_operator_cases() -> list:
    return [
        pytest.param(field, operator, form, id=f"{field}[{form}]", marks=documented_marks("listContacts"))
        for field, operator, alias in CONTACT_OPERATOR_EXAMPLES
        for form in (operator, alias)
        if form
    ]


@pytest.mark.parametrize(("field", "operator", "form"), contact_operator_cases())
def test_contact_filter_operators_select_as_documented(api, tenant, field, operator, form):
    """List Contacts (documented): ``filter[field][operator]=value`` with each documented operator, on the field of
    its example, and with each alias (``>=``, ``<=``, ``>``, ``<``, ``!=``): a date bound two days either side of
    the creation day, a status (``ne``, ``in``, ``not_in``), a partial type (``like``), a missing assignee
    (``null``). The list (narrowed by ``search`` to two contacts made for it) holds exactly the matching ones."""
    pair = operator_contacts(api, tenant)
    for value, expected in operator_expectations(operator, pair):
        params = {"search": pair["term"], f"filter[{field}][{form}]": value}
        found = found_ids(api, "/contacts", params)
        assert found == expected, f"{params}: listed {sorted(found)}, expected {sorted(expected)}"


_SENT_NOTES: dict[tuple[str, str], str] = {}


def sent_note(api: Api) -> dict:
    """A text message of this token's tenant, found through List Messages by a term only it holds (sent once)."""
    key = (api.target.base_url, api.token)
    if key not in _SENT_NOTES:
        term = f"Note{secrets.token_hex(5)}"
        response = api.post("/messages/text", json={"phone": records.unique_phone(), "message": term})
        assert response.status_code == 200, response.text
        _SENT_NOTES[key] = term
    term = _SENT_NOTES[key]
    (message,) = api.list_all("/messages", {"search": term})
    return {**message, "term": term}


@pytest.mark.parametrize(
    ("field", "operator"),
    [
        pytest.param(f, o, id=f"{f}[{o}]", marks=documented_marks("listMessages", sends=True))
        for f, o in MESSAGE_OPERATOR_EXAMPLES
    ],
)
def test_message_filter_operators_select_as_documented(api, field, operator):
    """List Messages (documented ``ne``, ``in``, ``not_in``, on the fields of their examples): a message the
    search finds is listed exactly when its field's value is not the one given, is in the list, is not in it."""
    message = sent_note(api)
    own = message[field]
    if own is None:
        pytest.skip(f"the message's {field} is null: a comparison with null selects nothing either way")
    values = MESSAGE_STATUSES if field == "status" else list(MESSAGE_TYPES)
    others = [v for v in values if v != own][:2]
    cases = {
        "ne": [(own, False), (others[0], True)],
        "in": [(f"{own},{others[0]}", True), (",".join(others), False)],
        "not_in": [(own, False), (others[0], True)],
    }[operator]
    for value, listed in cases:
        params = {"search": message["term"], f"filter[{field}][{operator}]": value}
        assert (message["id"] in found_ids(api, "/messages", params)) == listed, (params, message)


def include_cases() -> list:
    return [
        pytest.param(op, id=op.operation_id, marks=marks(op, tier, makes_records=False))
        for op in (SPEC.operation("getContact"), SPEC.operation("listContacts"))
        if (tier := list_tier(op, "includes")) != "mock"
    ]


@pytest.mark.parametrize("op", include_cases())
def test_include_embeds_groups_source_and_status(api, tenant, op):
    """Get Contact and List Contacts with ``include=groups,source,status`` (documented): the contact carries
    ``groups`` (each ``{id, name, ...}`` of its groups), ``source`` and ``status`` (each ``{id, name, ...}``) of the
    ids it holds."""
    group = records.group(api)
    term = f"Inc{secrets.token_hex(5)}"
    contact = records.contact(api, tenant, firstname=term, groups=[group["id"]])
    relations = ",".join(op.ext("includes"))
    if op.record is not None:
        response = api.get(fill(op.path, str(contact["id"])), params={"include": relations})
        assert response.status_code == 200, response.text
        shown = response.json()["data"]
    else:
        (shown,) = api.list_all(op.path, {"search": term, "include": relations})
    assert [(g["id"], g["name"]) for g in shown["groups"]] == [(group["id"], group["name"])], shown
    assert shown["source"]["id"] == contact["source_id"] and shown["source"].get("name"), shown
    assert shown["status"]["id"] == contact["status_id"] and shown["status"].get("name"), shown


@pytest.mark.parametrize(
    "op",
    [
        pytest.param(
            SPEC.operation(op_id),
            id=op_id,
            marks=documented_marks(op_id, sends=SPEC.operation(op_id).collection in SPEC.made_by_sending),
        )
        for op_id in FIELD_SELECTING
    ],
)
def test_fields_selects_the_fields_returned(api, op):
    """List Messages and List Templates (documented ``fields``, "comma-separated list of fields to return"): asked
    for two of the fields an item shows, every item shows exactly those two."""
    if op.collection in SPEC.made_by_sending:
        sent_note(api)
    items = page_items(api, op, {"per_page": 5})
    if not items:
        pytest.skip(f"{op.path} lists nothing on this tenant")
    # Fields the spec reads as the docs' or a decision's first (a server may allow selecting only its own columns).
    known = sorted(set(items[0]) & set(field_tiers(data_schema(op))))
    wanted = (known or sorted(items[0]))[:2]
    selected = page_items(api, op, {"per_page": 5, "fields": ",".join(wanted)})
    assert selected and all(sorted(item) == wanted for item in selected), (wanted, selected)


def default_paging_cases() -> list:
    return [
        pytest.param(op, id=op.operation_id, marks=documented_marks(op.operation_id))
        for op in LIST_OPS
        if op.tier == "documented" and op.collection in records.MAKERS
    ]


def make_records(api: Api, tenant: TenantHandle, collection: str, count: int) -> None:
    """``count`` new records; contacts in one Batch Create (one request, not ``count``)."""
    if collection == "contacts" and count:
        refs = records.references(api, tenant)
        body = {"contacts": [records.contact_body(*refs) for _ in range(count)]}
        response = api.post("/contacts/batch", json=body)
        assert 200 <= response.status_code < 300, response.text
        return
    for _ in range(count):
        records.MAKERS[collection](api, tenant)


@pytest.mark.parametrize("op", default_paging_cases())
def test_paging_defaults_to_page_one_of_fifteen(api, tenant, op):
    """The list pages' documented defaults, read without D3's ``meta``: with at least 16 records, a request with
    no ``page`` and no ``per_page`` shows 15 items, those of ``page=1``."""
    held = len(page_items(api, op, {"per_page": DOCUMENTED_PER_PAGE + 1}))
    make_records(api, tenant, op.collection, max(0, DOCUMENTED_PER_PAGE + 1 - held))
    default = ids_of(page_items(api, op, {}))
    assert len(default) == DOCUMENTED_PER_PAGE, f"{op.path}: {len(default)} items by default"
    first = ids_of(page_items(api, op, {"page": DOCUMENTED_PAGE}))
    assert sorted(default) == sorted(first), (default, first)
