"""Legitimate variants of the mock: other answers where the contract leaves the choice free.

Each variant is a way a correct server written from the same docs (in Laravel, Django or
Express) could differ from the mock, under the decision named in ``decision`` (see
docs/decisions.md, D16-D19). Profiles bundle variants a single real server could show at once.

``resolve(names)`` expands profile names and refuses unknown names and two answers to one
freedom; ``behaviour_for(variants, spec)`` turns the result into the ``Behaviour`` hooks that
``MockCore(variants=...)`` is built with. Nothing here patches the mock: every variant only
chooses a hook or an option of ``mockserver/behaviour.py``.
"""

from __future__ import annotations

from mockserver.variants.builder import behaviour_for, edited_spec
from mockserver.variants.catalogue import (
    LEVELS,
    PROFILES,
    VARIANTS,
    Profile,
    Variant,
    VariantSet,
    levels_of,
    listing,
    resolve,
)

__all__ = [
    "LEVELS",
    "PROFILES",
    "VARIANTS",
    "Profile",
    "Variant",
    "VariantSet",
    "behaviour_for",
    "edited_spec",
    "levels_of",
    "listing",
    "resolve",
]
