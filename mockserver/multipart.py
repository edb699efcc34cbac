"""multipart/form-data bodies, parsed with the standard library's e-mail parser."""

from __future__ import annotations

from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from mockserver.validation import UploadedFile


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Text parts become strings, file parts ``UploadedFile``; raises ValueError when malformed
    (the core's 400)."""
    if "boundary=" not in content_type:
        raise ValueError("no boundary in Content-Type")
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise ValueError("not a multipart body")
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):  # the HTTP policy decodes RFC 2231 names: a str or nothing
            raise ValueError("a part has no Content-Disposition name")
        if not name:
            continue  # an unnamed field is unknown, and unknown fields are ignored (D5)
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):  # a part without a body
            payload = b""
        filename = part.get_filename()
        if filename is not None:
            fields[name] = UploadedFile(filename, part.get_content_type(), len(payload))
        else:
            try:
                fields[name] = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
            except LookupError:
                raise ValueError(
                    f"part {name!r} names an unknown charset {part.get_content_charset()!r}"
                ) from None
    return fields
