"""Messages: the four send operations and the message history."""

from __future__ import annotations

import secrets
from urllib.parse import urlparse

from mockserver import listing, outbox
from mockserver.context import Context, Reply
from mockserver.errors import ValidationFailed
from mockserver.handlers import named
from mockserver.validation import UploadedFile

LIST_FIELDS = (
    "id",
    "interaction_id",
    "sender_id",
    "type",
    "message",
    "status",
    "message_id",
    "sent_at",
    "is_read",
    "direction",
)


def send_text(ctx: Context) -> Reply:
    phone, contact, _ = outbox.prepare(ctx)
    text = outbox.merge(ctx.body["message"], contact)
    sent = outbox.record(ctx, phone, contact, "text", text)
    return Reply({**sent, "message": text})


def approved_template(ctx: Context) -> dict:
    name, language = ctx.body["template_name"], ctx.body["language"]
    for template in ctx.tenant.table("templates").values():
        if (
            template["template_name"] == name
            and template["language"] == language
            and template["status"] == "APPROVED"
        ):
            return template
    raise ctx.error(404, "RESOURCE_NOT_FOUND")


def missing_parameters(ctx: Context, template: dict) -> dict[str, list[str]]:
    """Which optional fields this template makes required (documented rules, assumed messages)."""
    messages = ctx.op.ext("template-parameter-messages")
    body = ctx.body
    missing: dict[str, list[str]] = {}
    header = template["header_data_format"]
    if header == "TEXT" and template["header_params_count"] and not body.get("header_field_1"):
        missing["header_field_1"] = [messages["header_text"]]
    elif header in ("IMAGE", "VIDEO", "DOCUMENT"):
        kind = header.lower()
        if not body.get(f"header_{kind}_url") and not body.get(f"header_{kind}_file"):
            missing[f"header_{kind}_url"] = [messages["header_media"].format(format=kind, kind=kind)]
    otp_field = f"field_{body.get('otp_field_number') or 1}" if body.get("auto_generate_otp") else None
    for n in range(1, template["body_params_count"] + 1):
        name = f"field_{n}"
        if name != otp_field and not body.get(name):
            missing[name] = [messages["body"].format(n=n)]
    for name, rule in ctx.op.extensions.file_limits.items():
        upload = body.get(name)
        if isinstance(upload, UploadedFile) and upload.size > rule.max_bytes:
            missing[name] = [f"The {name} may not be greater than {rule.max_bytes // (1024 * 1024)} MB"]
    return missing


def send_template(ctx: Context) -> Reply:
    def checked_template() -> dict:
        template = approved_template(ctx)
        missing = missing_parameters(ctx, template)
        if missing:
            raise ValidationFailed(missing)
        return template

    phone, contact, template = outbox.prepare(ctx, template=checked_template)
    body = dict(ctx.body)
    if body.get("auto_generate_otp"):
        body[f"field_{body.get('otp_field_number') or 1}"] = "".join(
            secrets.choice("0123456789") for _ in range(6)
        )
    text = template["body_data"]
    for n in range(1, template["body_params_count"] + 1):
        text = text.replace(f"{{{{{n}}}}}", outbox.merge(str(body.get(f"field_{n}", "")), contact))
    sent = outbox.record(ctx, phone, contact, "template", text)
    return Reply({**sent, "template_name": template["template_name"], "language": template["language"]})


def media_problems(ctx: Context) -> dict[str, list[str]]:
    rules = ctx.op.extensions.media_rules[ctx.body["media_type"]]
    messages = ctx.op.ext("media-messages")
    problems: dict[str, list[str]] = {}
    upload = ctx.body.get("media_file")
    if isinstance(upload, UploadedFile):
        extension = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        if extension not in rules.extensions:
            problems.setdefault("media_file", []).append(
                messages["extension"].format(field="media_file", extensions=", ".join(rules.extensions))
            )
        if upload.size > rules.max_bytes:
            problems.setdefault("media_file", []).append(
                messages["size"].format(field="media_file", max_mb=rules.max_bytes // (1024 * 1024))
            )
    if ctx.body["media_type"] == "audio" and ctx.body.get("caption"):
        problems["caption"] = [messages["caption_audio"]]
    return problems


def send_media(ctx: Context) -> Reply:
    problems = media_problems(ctx)
    if problems:
        raise ValidationFailed(problems)
    phone, contact, _ = outbox.prepare(ctx, details=ctx.body.get("contact") or {})
    upload = ctx.body.get("media_file")
    if isinstance(upload, UploadedFile):
        url = f"{ctx.origin}/media/{ctx.tenant.id}/{secrets.token_hex(8)}-{upload.filename}"
        filename = ctx.body.get("filename") or upload.filename
    else:
        url = ctx.body["media_url"]
        filename = ctx.body.get("filename") or (urlparse(url).path.rsplit("/", 1)[-1] or None)
    caption = ctx.body.get("caption")
    sent = outbox.record(ctx, phone, contact, ctx.body["media_type"], caption, url)
    return Reply(
        {
            **sent,
            "media_type": ctx.body["media_type"],
            "media_url": url,
            "caption": caption,
            "filename": filename,
        }
    )


def send_interactive(ctx: Context) -> Reply:
    phone, contact, _ = outbox.prepare(ctx)
    sent = outbox.record(ctx, phone, contact, "interactive", outbox.merge(ctx.body["body_text"], contact))
    return Reply({**sent, "type": ctx.body["type"]})


def list_messages(ctx: Context) -> Reply:
    return listing.respond(
        ctx, listing.Table(ctx.tenant, "messages"), lambda m: {k: m[k] for k in LIST_FIELDS}
    )


def get_message(ctx: Context) -> Reply:
    return Reply(named.public(ctx.path_record))


HANDLERS = {
    "sendTextMessage": send_text,
    "sendTemplateMessage": send_template,
    "sendMediaMessage": send_media,
    "sendInteractiveMessage": send_interactive,
    "listMessages": list_messages,
    "getMessage": get_message,
}
