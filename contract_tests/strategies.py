"""Hypothesis strategies the checks share: junk and near-miss tokens, ids that name no record,
ids that are no ids, broken bodies, paths the API does not have.

Ids that must name no record are ones the tenant's own lists do not show, next to its own
ids or far from them: ids may be any positive integers, shared across tenants or not (D19).
"""

from __future__ import annotations

import json
import string

from hypothesis import strategies as st

from contract_tests import contract
from contract_tests.operations import (
    OPS,
    ROUTES,
    Operation,
    example_text,
    fill,
    has_required_body_field,
    literal_siblings,
    next_unknown_id,
)

LETTERS = string.ascii_letters + "éñöÅçß"
TOKEN_CHARS = string.ascii_letters + string.digits + "-._~+/="
ID_CHARS = string.ascii_letters + string.digits + "-_~"

# The prefix keeps Hypothesis from offering a real token it found among the constants of the code it runs.
junk_tokens = st.text(alphabet=TOKEN_CHARS, max_size=80).map(lambda text: f"junk.{text}")


def near_misses(valid_token: str) -> st.SearchStrategy[str]:
    """The valid token cut short, lengthened, with one character changed, or with the case of one letter or of
    all of them swapped (a token compared under a case-insensitive collation would pass)."""
    cut = st.integers(0, len(valid_token) - 1).map(lambda n: valid_token[:n])
    longer = st.text(alphabet=TOKEN_CHARS, min_size=1, max_size=4).map(lambda extra: valid_token + extra)
    changed = st.integers(0, len(valid_token) - 1).map(
        lambda n: valid_token[:n] + ("A" if valid_token[n] != "A" else "B") + valid_token[n + 1 :]
    )
    letters = [n for n, c in enumerate(valid_token) if c.swapcase() != c]
    recased = (
        st.sampled_from(letters).map(
            lambda n: valid_token[:n] + valid_token[n].swapcase() + valid_token[n + 1 :]
        )
        if letters
        else st.nothing()
    )
    swapped = st.just(valid_token.swapcase())
    return st.one_of(cut, longer, changed, recased, swapped).filter(
        lambda token: bool(token) and token != valid_token
    )


def bad_authorizations(valid_token: str) -> st.SearchStrategy[str | None]:
    """No header, a malformed one, an unknown bearer token, or the valid token under a wrong scheme."""
    return st.one_of(
        st.none(),
        st.one_of(junk_tokens, near_misses(valid_token)).map(lambda token: f"Bearer {token}"),
        st.sampled_from(["", "Bearer", "Basic x", "Basic dXNlcjpwYXNz", "Token", "Bearer\tjunk"]),
        st.sampled_from(["Basic", "Token", "JWT", "Bearer:", "Bearer-"]).map(
            lambda scheme: f"{scheme} {valid_token}"
        ),
        st.just(valid_token),
        st.just(f"Bearer{valid_token}"),
    )


def unknown_ids(op: Operation, own: set[str], near: bool = True) -> st.SearchStrategy[str]:
    """Ids the tenant's own list does not show; for Comments, 12-15 digit mobiles without a chat.

    Far ids (a million past the tenant's highest, below 2**53 so every JSON reader keeps them exact) name no
    record of anyone. Near ids (just above its highest, in the gaps between its ids, anywhere in 32 bits) may be
    another tenant's records, which D8 makes missing ones too.
    """
    if op.record is not None and op.record.is_phone:
        return st.integers(10**11, 10**15 - 1).map(str)
    top = int(next_unknown_id(own)) - 1
    far = st.integers(top + 10**6, 2**53 - 1)
    candidates = st.one_of(st.integers(top + 1, top + 1_000), st.integers(1, 2**31 - 1), far) if near else far
    return candidates.map(str).filter(lambda key: key not in own)


def misspellings(real_id: str) -> list[str]:
    """An existing record's id written as something that is not a positive integer: still no record (D6)."""
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
    wide = str.maketrans("0123456789", "０１２３４５６７８９")
    # No trailing space: a PAD SPACE collation may rightly equate "1000 " with a string template id "1000".
    return [
        f"{real_id}abc",
        f"+{real_id}",
        f"-{real_id}",
        f" {real_id}",
        f"{real_id}e0",
        real_id.translate(digits),
        real_id.translate(wide),
        f"{real_id}²",
    ]


def odd_ids(op: Operation, real_id: str, own: set[str]) -> st.SearchStrategy[str]:
    """Ids that are not positive integers: zero, negatives, words, non-ASCII text, misspellings of ``real_id``
    (none of them an id the tenant has: template ids are strings, D8)."""
    literals = literal_siblings(op.path)
    words = st.text(alphabet=ID_CHARS, min_size=1, max_size=24)
    unicode = st.text(
        st.characters(blacklist_categories=("Cs", "Cc", "Zs"), blacklist_characters="/\\.%?#"),
        min_size=1,
        max_size=8,
    )
    return st.one_of(
        st.sampled_from(misspellings(real_id)), st.integers(-(10**9), 0).map(str), words, unicode
    ).filter(
        lambda text: (
            not (text.isascii() and text.isdigit()) and text not in literals and text not in own | {real_id}
        )
    )


def not_json_objects(op: Operation) -> st.SearchStrategy[bytes]:
    """Malformed JSON, or JSON that is not an object (arrays included): 400 INVALID_JSON (D5)."""
    example = example_text(op)

    def breaks(text: str) -> bool:
        if not text.strip():
            return False  # an empty body is "no body", not malformed JSON
        try:
            return not isinstance(json.loads(text), dict)
        except ValueError:
            return True

    values = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.text(max_size=8),
        st.lists(st.integers(), max_size=3),
        st.just(f"[{example}]").map(json.loads),
    )
    return (
        st.one_of(
            values.map(json.dumps),
            st.integers(1, len(example) - 1).map(lambda cut: example[:cut]),
            st.text(min_size=1, max_size=30),
        )
        .filter(breaks)
        .map(str.encode)
    )


def bad_bodies(op: Operation) -> st.SearchStrategy[bytes | None]:
    """Bodies that fail the body checks: malformed or non-object JSON, or an object missing required fields."""
    if not op.takes_json:
        return st.none()
    broken = not_json_objects(op)
    return st.one_of(broken, st.just(b"{}")) if has_required_body_field(op) else broken


def path_segments() -> st.SearchStrategy[str]:
    return st.text(alphabet=string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=12)


def flat_prefix(path: str) -> bool:
    """Whether ``path`` falls under the fixed head of a flat-envelope operation's path (``/comments/`` for
    ``/comments/{mobile}``), where the answer's style is D12's and no check of the standard envelope applies."""
    heads = {op.path.split("{")[0] for op in OPS if op.flat and "{" in op.path}
    return any(path.startswith(head) for head in heads)


def unknown_paths() -> st.SearchStrategy[str]:
    """Paths under the base URL that match no path of the spec: random ones and known ones with a segment more."""
    known = st.sampled_from(sorted(ROUTES)).map(lambda template: fill(template, "1"))
    random_paths = st.lists(path_segments(), min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
    longer = st.tuples(known, path_segments()).map(lambda pair: f"{pair[0]}/{pair[1]}")
    return st.one_of(random_paths, longer).filter(
        lambda path: contract.router().match(path) is None and not flat_prefix(path)
    )


# --- text and phones ------------------------------------------------------------------------


def words(max_size: int = 30) -> st.SearchStrategy[str]:
    """Printable text without leading/trailing blanks (servers may trim), within the field's length limit."""
    return (
        st.text(alphabet=LETTERS + string.digits + " -'.", min_size=1, max_size=max_size)
        .map(str.strip)
        .filter(bool)
    )


def phone_digits(spelled: str) -> str:
    """D9: a phone is its digits; the spelling around them does not matter."""
    return "".join(ch for ch in spelled if ch.isdigit())


@st.composite
def spelled(draw, digits: str, max_length: int = 20) -> str:
    """``digits`` written with an optional '+', spaces, dashes and parentheses, at most ``max_length`` long (D9)."""
    plus = draw(st.booleans())
    room = max_length - len(digits) - plus
    parens = room >= 2 and draw(st.booleans())
    room -= 2 * parens
    cuts = draw(st.sets(st.integers(1, len(digits) - 1), max_size=max(0, min(room, 4))))
    pieces = ["+"] if plus else []
    for index, digit in enumerate(digits):
        if index in cuts:
            pieces.append(draw(st.sampled_from(" -")))
        pieces.append(
            "(" + digit if parens and index == 2 else digit + ")" if parens and index == 4 else digit
        )
    return "".join(pieces)


def padded(digits: str, length: int) -> str:
    """``digits`` after a '+', with single spaces and dashes between digits until the spelling is ``length`` long."""
    separators = length - len(digits) - 1
    assert 0 <= separators < len(digits), f"cannot spell {digits} in {length} characters"
    return "+" + digits[0] + "".join(" -"[i % 2] * (i < separators) + d for i, d in enumerate(digits[1:]))


def spellings(digits: str, longest: int) -> tuple[str, ...]:
    """Four fixed ways to write one number (D9: one number), the last exactly ``longest`` characters long."""
    return (
        f"+{digits[:2]} {digits[2:7]} {digits[7:]}",
        digits,
        f"+{digits[:2]}-({digits[2:5]})-{digits[5:8]}-{digits[8:]}",
        padded(digits, longest),
    )
