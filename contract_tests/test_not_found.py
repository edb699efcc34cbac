"""Not found: a record the path names that the tenant does not have is 404, whether it is
missing, an id that is no id, or another tenant's record (D6, D8)."""

from __future__ import annotations

import pytest
from hypothesis import given

from contract_tests import contract, records
from contract_tests.expect import expect
from contract_tests.operations import (
    WITH_ID,
    WITH_PATH_RECORD,
    Operation,
    cases,
    existing_request,
    fill,
    json_body,
    own_keys,
    path_value,
    record_read,
)
from contract_tests.strategies import odd_ids, unknown_ids
from contract_tests.target import Api, TenantHandle


@pytest.mark.parametrize(
    "op", cases(WITH_PATH_RECORD, lambda op: op.error_tier(404, "NOT_FOUND"), makes_path_record=False)
)
def test_unknown_id_is_404(api, tenant, op):
    """An id (or a chat mobile) that names no record gets 404 NOT_FOUND: ids far beyond the tenant's own. A valid
    body of the tenant goes along, so nothing but the id is wrong (no order of checks is involved).

    The tier is that of the operation's 404 entry: documented where its page gives the row ("404 NOT_FOUND ... not
    found"; "Chat conversation not found" on Add Comment), decided (D6, D8) elsewhere (D1: the operations the docs
    only name in their sidebar).
    """
    body = json_body(api, tenant, op)

    @given(record_id=unknown_ids(op, own_keys(api, op), near=False))
    def check(record_id):
        expect(api.request(op.method, fill(op.path, record_id), json=body), op, 404, "NOT_FOUND")

    check()


@pytest.mark.parametrize("op", cases(WITH_ID, "decided", makes_path_record=False))
def test_ids_next_to_the_tenants_own_are_404(api, tenant, op):
    """An id the tenant's own list does not show is 404 NOT_FOUND however close it is to the tenant's ids: the
    one after its highest, those in the gaps between them, any 32-bit id (each maybe another tenant's record).

    assumed (D8: a record of another tenant is indistinguishable from a missing one; D19: ids are any positive
    integers, with gaps, shared across tenants or not).
    """
    body = json_body(api, tenant, op)
    own = own_keys(api, op)

    @given(record_id=unknown_ids(op, own, near=True))
    def check(record_id):
        expect(api.request(op.method, fill(op.path, record_id), json=body), op, 404, "NOT_FOUND")

    check()


@pytest.mark.parametrize("op", cases(WITH_ID, "decided"))
def test_non_numeric_or_non_positive_id_is_404(api, tenant, op):
    """An id that is not a positive integer is 404 NOT_FOUND, even when it spells an existing record's id with a
    sign, a suffix, spaces or non-ASCII digits (template ids: any string no template has).

    assumed (D6: "a non-numeric id is a 404 too"; D8: ids are positive integers).
    """
    path, body = existing_request(api, tenant, op)
    real_id = path_value(op, path)

    @given(record_id=odd_ids(op, real_id, own_keys(api, op)))
    def check(record_id):
        expect(api.request(op.method, fill(op.path, record_id), json=body), op, 404, "NOT_FOUND")

    check()


def foreign_path(
    api: Api, tenant: TenantHandle, other_api: Api, other: TenantHandle, op: Operation
) -> str | None:
    """A path naming a record of the other tenant whose id our tenant does not have, or None.

    Ours is made first, theirs right after: where ids are shared across tenants, theirs is then the id next to
    one of ours (the nearest miss); where they are per tenant, records are made until one has an id ours lacks.
    """
    assert op.record is not None
    if op.record.is_phone:
        return records.path_for(other_api, other, op)
    if op.record.collection not in records.MAKERS and not op.record.made_by_sending:
        # records a tenant starts with (templates): one of theirs that we do not have
        theirs = sorted(own_keys(other_api, op) - own_keys(api, op))
        return fill(op.path, theirs[0]) if theirs else None
    records.path_for(api, tenant, op)
    ours = own_keys(api, op)
    for _ in range(10):
        path = records.path_for(other_api, other, op)
        if path_value(op, path) not in ours:
            return path
    return None


def assert_not_listed(api: Api, collection: str, theirs: dict) -> None:
    """No item of our list is their record: equal on every field both show (ids alone may coincide, D19)."""
    leaked = [
        item
        for item in api.list_all(collection)
        if all(item[key] == theirs[key] for key in set(item) & set(theirs))
    ]
    assert not leaked, f"{collection} lists another tenant's record (D8): {leaked}"


@pytest.mark.parametrize("op", cases(WITH_PATH_RECORD, "decided"))
def test_another_tenants_record_is_404(target, api, tenant, needs_control, op):
    """A record of another tenant is indistinguishable from a missing one: 404 NOT_FOUND, and our own list of
    that collection does not show it.

    assumed (D8); the other tenant reads its own record (GET operations) to show the id is real.
    """
    other = needs_control.new_tenant(rate_limit_per_minute=1_000_000)
    other_api = Api(target, other.token)
    path = foreign_path(api, tenant, other_api, other, op)
    if path is None:
        pytest.skip("the two tenants share every template id (WhatsApp ids), so no foreign-only id exists")
    if op.method == "GET":
        answer = other_api.get(path)
        assert answer.status_code == 200, f"the other tenant cannot read its own {path}"
        # Only the record's own read answers the record; another read of it (a count, say) answers something else.
        # The suite names the records it makes uniquely, so that no record of ours can equal one of theirs.
        listing = contract.spec().list_operation(op.record)
        if listing is not None and record_read(op) and op.record.collection in records.MAKERS:
            assert_not_listed(api, listing.path, answer.json()["data"])
    expect(api.request(op.method, path, json=json_body(api, tenant, op)), op, 404, "NOT_FOUND")
