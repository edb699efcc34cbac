"""multipart/form-data bodies, parsed with the standard library's e-mail parser.

A large body is spooled to a file as it arrives (``parse_multipart_file``): its parts are found by
their boundaries where the file lies, so a large file part is measured, never read into memory.
"""

from __future__ import annotations

import mmap
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any, BinaryIO, cast

from mockserver.validation import UploadedFile

# A part up to this size goes through the e-mail parser whole; a larger one has only its headers parsed,
# and a file's size is read from where its payload starts and ends.
WHOLE_PART = 1024 * 1024
# Transfer encodings whose payload is not its bytes as sent: such a part is decoded whole, whatever its size.
ENCODED = frozenset({"base64", "quoted-printable", "x-uuencode", "uuencode", "uue", "x-uue"})


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Text parts become strings, file parts ``UploadedFile``; raises ValueError when malformed
    (the core's 400)."""
    message = BytesParser(policy=HTTP).parsebytes(form_head(content_type) + body)
    if not message.is_multipart():
        raise ValueError("not a multipart body")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        named = field_of(part)
        if named is not None:
            fields[named[0]] = named[1]
    return fields


def form_head(content_type: str) -> bytes:
    if "boundary=" not in content_type:
        raise ValueError("no boundary in Content-Type")
    return b"Content-Type: " + content_type.encode() + b"\r\n\r\n"


def field_of(part: Message, size: int | None = None) -> tuple[str, Any] | None:
    """A part's name and value (None: an unnamed part, ignored). ``size``: a file part's payload size,
    measured where it lies, so the payload is not read."""
    # Any: an RFC 2231 name comes as a (charset, language, value) tuple, kept as the key it always was.
    name: Any = part.get_param("name", header="content-disposition")
    if name is None:
        raise ValueError("a part has no Content-Disposition name")
    if not name:
        return None  # an unnamed field is unknown, and unknown fields are ignored (D5)
    filename = part.get_filename()
    if filename is not None and size is not None:
        return name, UploadedFile(filename, part.get_content_type(), size)
    payload = cast(bytes, part.get_payload(decode=True) or b"")  # bytes: a decoded leaf part's payload
    if filename is not None:
        return name, UploadedFile(filename, part.get_content_type(), len(payload))
    try:
        return name, payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    except LookupError:
        raise ValueError(f"part {name!r} names an unknown charset {part.get_content_charset()!r}") from None


def parse_multipart_file(spool: BinaryIO, content_type: str) -> dict[str, Any]:
    """``parse_multipart`` for a body spooled to a file. A body its boundaries do not frame plainly
    (a preamble, bare LF line ends, a delimiter line with trailing blanks) is read and parsed whole,
    so both give the same answer."""
    boundary = BytesParser(policy=HTTP).parsebytes(form_head(content_type)).get_boundary()
    spool.flush()  # mmap reads the file, not its write buffer
    spool.seek(0, 2)
    if not boundary or spool.tell() == 0:
        spool.seek(0)
        return parse_multipart(spool.read(), content_type)
    with mmap.mmap(spool.fileno(), 0, access=mmap.ACCESS_READ) as data:
        spans = part_spans(data, boundary.encode("ascii", "surrogateescape"))
        if spans is None:
            return parse_multipart(data[:], content_type)
        fields: dict[str, Any] = {}
        for start, end in spans:
            head = measurable_head(data, start, end) if end - start > WHOLE_PART else None
            named = (
                field_of(*head) if head else field_of(BytesParser(policy=HTTP).parsebytes(data[start:end]))
            )
            if named is not None:
                fields[named[0]] = named[1]
        return fields


def measurable_head(data: mmap.mmap, start: int, end: int) -> tuple[Message, int] | None:
    """A large file part's headers and payload size; None when the part must be parsed whole (no blank
    line after its headers, a transfer encoding, or a text field)."""
    blank = data.find(b"\r\n\r\n", start, min(end, start + 64 * 1024))
    if blank < 0:
        return None
    part = BytesParser(policy=HTTP).parsebytes(data[start : blank + 4])
    if part.get("content-transfer-encoding", "").strip().lower() in ENCODED or part.get_filename() is None:
        return None
    return part, end - (blank + 4)


def part_spans(data: mmap.mmap, boundary: bytes) -> list[tuple[int, int]] | None:
    """The (start, end) of each part's bytes (headers and payload) between plain CRLF delimiter lines,
    or None when the body is framed any other way (the e-mail parser then decides)."""
    delimiter = b"--" + boundary
    if data[: len(delimiter) + 2] != delimiter + b"\r\n":
        return None
    spans, start = [], len(delimiter) + 2
    found = data.find(delimiter, start)
    while found >= 0:
        before = data[found - 2 : found]
        after = data[found + len(delimiter) : found + len(delimiter) + 2]
        closing = after == b"--"
        end_of_line = data[found + len(delimiter) + 2 : found + len(delimiter) + 4] if closing else b"\r\n"
        if before == b"\r\n" and after in (b"\r\n", b"--") and end_of_line in (b"\r\n", b""):
            spans.append((start, found - 2))
            if closing:
                return spans
            start = found + len(delimiter) + 2
        elif before[-1:] in (b"\r", b"\n") or after[:1] in (b" ", b"\t"):
            return None  # a delimiter the e-mail parser might read otherwise
        found = data.find(delimiter, found + 1)
    return None  # no closing delimiter
