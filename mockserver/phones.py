"""Phone spellings (D9): the cleaned phone keeps digits only."""


def clean_phone(raw: str) -> str:
    return "".join(ch for ch in raw if ch.isdigit())
