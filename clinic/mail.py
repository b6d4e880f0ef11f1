"""The embedded default's mail: one .eml file per message under var/mail/,
and the reader behind the DEBUG-only /outbox/ page."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage as ParsedMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

NAME_PATTERN = re.compile(r"^[0-9TZ-]+-[0-9a-f]{32}\.eml$")


class EmlFileBackend(BaseEmailBackend):
    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        folder = Path(settings.EMAIL_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            path = folder / f"{stamp}-{uuid.uuid4().hex}.eml"
            # Write then rename, so the outbox never shows half a message.
            partial = path.with_suffix(".part")
            partial.write_bytes(message.message().as_bytes())
            partial.rename(path)
            sent += 1
        return sent


@dataclass(frozen=True)
class OutboxMessage:
    name: str
    subject: str
    to: str
    sent_at: datetime | None
    text: str
    html: str | None
    attachments: list[str]


def _read(path: Path) -> OutboxMessage:
    parsed: ParsedMessage = BytesParser(policy=policy.default).parsebytes(path.read_bytes())  # type: ignore[assignment]
    text_part = parsed.get_body(preferencelist=("plain",))
    html_part = parsed.get_body(preferencelist=("html",))
    return OutboxMessage(
        name=path.name,
        subject=str(parsed["subject"] or ""),
        to=str(parsed["to"] or ""),
        sent_at=parsedate_to_datetime(parsed["date"]) if parsed["date"] else None,
        text=text_part.get_content() if text_part is not None else "",
        html=html_part.get_content() if html_part is not None else None,
        attachments=[part.get_filename() or "attachment" for part in parsed.iter_attachments()],
    )


def outbox_list(limit: int = 100) -> list[OutboxMessage]:
    folder = Path(settings.EMAIL_FILE_PATH)
    if not folder.is_dir():
        return []
    paths = sorted(folder.glob("*.eml"), reverse=True)[:limit]
    return [_read(path) for path in paths]


def outbox_get(name: str) -> OutboxMessage | None:
    if not NAME_PATTERN.match(name):
        return None
    path = Path(settings.EMAIL_FILE_PATH) / name
    return _read(path) if path.is_file() else None
