"""Phone spellings (D9): the cleaned phone keeps digits only."""

import re

# ASCII digits only: str.isdigit() also keeps "²" or "٣", which no phone number holds. A regex,
# because uniqueness checks clean every stored phone of a tenant on each create.
NOT_A_DIGIT = re.compile(r"[^0-9]+")


def clean_phone(raw: str) -> str:
    return NOT_A_DIGIT.sub("", raw)
