"""Property: an uploaded file over its documented size is refused; a small one of the same kind is taken.

Send Media Message documents a size per ``media_type`` (image 5 MB, document 100 MB, video and audio 16 MB:
``x-media-rules``) and Send Template Message one per header file (image 5 MB, video 16 MB, document 100 MB:
``x-file-limits``). Each limit gets one file one byte over it, in bytes of MiB, so it is over the limit under
either reading of "MB". The refusal is a client error: which one (422 under the field, D4, or 413 for a large
multipart body, D5) the docs leave open, so only that it is not taken is asserted. A few-byte file of the same kind
and extension is taken first, so the refusal is the size's. These checks send WhatsApp messages.
"""

from __future__ import annotations

import tempfile

import pytest

from contract_tests import contract, records
from contract_tests.reader import ContractOperation
from contract_tests.target import Api, TenantHandle

SPEC = contract.spec()
MEDIA = SPEC.operation("sendMediaMessage")
TEMPLATE = SPEC.operation("sendTemplateMessage")
SMALL = b"contract suite upload"


def marks(op: ContractOperation, provenance: str | None) -> list:
    return [
        *contract.tier_marks(contract.tier_of(provenance)),
        pytest.mark.operation(op.operation_id),
        pytest.mark.sends,
    ]


def media_cases() -> list:
    provenance = MEDIA.ext("media-rules-provenance")
    return [
        pytest.param(kind, rule, id=kind, marks=marks(MEDIA, provenance))
        for kind, rule in (MEDIA.ext("media-rules") or {}).items()
    ]


def header_cases() -> list:
    return [
        pytest.param(field, limit["max_bytes"], id=field, marks=marks(TEMPLATE, limit.get("provenance")))
        for field, limit in (TEMPLATE.ext("file-limits") or {}).items()
    ]


def upload(api: Api, path: str, fields: dict[str, str], name: str, filename: str, content: bytes | int):
    """A multipart upload of ``content``, or of that many zero bytes: a sparse temporary file that httpx sends in
    chunks, so a 100 MB file never sits in the suite's memory."""
    if isinstance(content, bytes):
        return api.post(path, data=fields, files={name: (filename, content, "application/octet-stream")})
    with tempfile.TemporaryFile() as zeros:
        zeros.truncate(content)
        return api.post(path, data=fields, files={name: (filename, zeros, "application/octet-stream")})


def taken(response, what: str) -> None:
    assert 200 <= response.status_code < 300, f"{what}: {response.status_code} {response.text}"


def refused(response, what: str) -> None:
    assert 400 <= response.status_code < 500, (
        f"{what} was not refused: {response.status_code} {response.text}"
    )


@pytest.mark.parametrize(("kind", "rule"), media_cases())
def test_media_file_over_its_size_is_refused(api: Api, kind: str, rule: dict) -> None:
    """Send Media Message (documented sizes per ``media_type``): a file of an allowed extension one byte over the
    size is refused; a few bytes of the same kind are sent."""
    filename = f"upload.{rule['extensions'][0]}"
    fields = {"phone": records.unique_phone(), "media_type": kind}
    taken(upload(api, MEDIA.path, fields, "media_file", filename, SMALL), f"a small {kind} file")
    over = rule["max_bytes"] + 1
    fields["phone"] = records.unique_phone()
    refused(upload(api, MEDIA.path, fields, "media_file", filename, over), f"a {kind} of {over} bytes")


def header_template(api: Api, field: str) -> dict:
    """An APPROVED template of the tenant whose header takes ``field`` (``header_video_file``: a VIDEO header)."""
    kind = field.split("_")[1].upper()
    found = [
        t
        for t in records.templates(api, "/templates")
        if t.get("status") == "APPROVED" and (t.get("header_data_format") or "").upper() == kind
    ]
    if not found:
        pytest.skip(f"the tenant lists no APPROVED template with a {kind} header")
    return found[0]


@pytest.mark.parametrize(("field", "max_bytes"), header_cases())
def test_template_header_file_over_its_size_is_refused(
    api: Api, tenant: TenantHandle, field: str, max_bytes: int
) -> None:
    """Send Template Message (documented ``header_image_file`` 5 MB, ``header_video_file`` 16 MB,
    ``header_document_file`` 100 MB), on a template with that header: a file one byte over is refused; a few bytes
    are sent."""
    template = header_template(api, field)
    url_field = field.replace("_file", "_url")
    fields = {k: v for k, v in records.template_fields(template).items() if k != url_field}
    extension = {"image": "jpg", "video": "mp4", "document": "pdf"}[field.split("_")[1]]
    filename = f"header.{extension}"

    def body() -> dict[str, str]:
        base = {"phone": records.unique_phone(), "template_name": template["template_name"]}
        return {**base, "language": template["language"], **fields}

    taken(upload(api, TEMPLATE.path, body(), field, filename, SMALL), f"a small {field}")
    over = max_bytes + 1
    refused(upload(api, TEMPLATE.path, body(), field, filename, over), f"a {field} of {over} bytes")
