"""Comments: internal notes on a chat, in their own flat response style (D12)."""

from __future__ import annotations

from urllib.parse import urlparse

from mockserver.clock import iso
from mockserver.context import Context, Reply

MEDIA_TYPES = {
    "jpg": "image",
    "jpeg": "image",
    "png": "image",
    "webp": "image",
    "mp4": "video",
    "3gp": "video",
    "mp3": "audio",
    "ogg": "audio",
    "amr": "audio",
    "aac": "audio",
    "opus": "audio",
}
ITEM_FIELDS = ("id", "message", "type", "status_message", "url", "message_id", "ref_message_id", "created_at")


def get_comments(ctx: Context) -> Reply:
    chat_id = ctx.path_record["id"]
    notes = [c for c in ctx.tenant.table("comments").values() if c["_chat_id"] == chat_id]
    notes.sort(key=lambda c: c["id"], reverse=True)
    data = [{k: c[k] for k in ITEM_FIELDS} for c in notes]
    return Reply(data)


def add_comment(ctx: Context) -> Reply:
    body = ctx.body
    media_url = body.get("media_url")
    filename = urlparse(media_url).path.rsplit("/", 1)[-1] if media_url else None
    kind = "text"
    if filename:
        kind = MEDIA_TYPES.get(filename.rsplit(".", 1)[-1].lower(), "document")
    note = ctx.tenant.insert(
        "comments",
        {
            "_chat_id": ctx.path_record["id"],
            "message": body["comment"],
            "type": kind,
            "status_message": body.get("status_message") or "Internal comment",
            "url": filename or None,
            "message_id": body.get("message_id"),
            "ref_message_id": body.get("ref_message_id"),
            "created_at": iso(ctx.now),
        },
        ctx.now,
    )
    fields = {
        "tenant_id": ctx.tenant.id,
        "interaction_id": ctx.path_record["id"],
        "sender_id": ctx.tenant.settings.get("sender_id"),
        "status_message": note["status_message"],
        "url": note["url"],
        "message_id": note["message_id"],
        "ref_message_id": note["ref_message_id"],
        "chat_message_id": note["id"],
    }
    return Reply(None, fields=fields)


HANDLERS = {
    "getComments": get_comments,
    "addComment": add_comment,
}
