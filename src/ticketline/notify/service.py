"""Notify use cases: templates an operator edits, and queueing SMS into the outbox."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import phonenumbers
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ticketline.admin import audit
from ticketline.admin.security import Actor
from ticketline.core.clock import Clock
from ticketline.core.errors import InvalidInput
from ticketline.db.session import Database
from ticketline.notify.errors import TemplateNotFound
from ticketline.notify.models import MessageTemplate, OutboxMessage
from ticketline.notify.templates import DEFAULT_TEMPLATES, placeholders, render

MAX_SMS_CHARS = 500


def normalize_phone(text: str, region: str = "CN") -> str:
    """E.164 form of a phone number; a malformed one is an error naming the field."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("to", f"not a phone number: {text!r}") from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidInput("to", f"not a valid phone number: {text!r}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class NotifyService:
    """The only writer of templates and the outbox (the worker only moves message states)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.on_queued: list[Callable[[], None]] = []

    async def install_default_templates(self) -> int:
        """Add the shipped templates that the operator has not defined; return how many."""
        added = 0
        async with self.db.transaction() as session:
            existing = {(t.key, t.locale) for t in await session.scalars(select(MessageTemplate))}
            for (key, locale), body in DEFAULT_TEMPLATES.items():
                if (key, locale) not in existing:
                    session.add(
                        MessageTemplate(
                            key=key, locale=locale, body=body, updated_at=self.clock.now()
                        )
                    )
                    added += 1
        return added

    async def set_template(self, actor: Actor, key: str, locale: str, body: str) -> MessageTemplate:
        placeholders(body)
        if not body.strip():
            raise InvalidInput("body", "must not be empty")
        now = self.clock.now()
        async with self.db.transaction() as session:
            template = await _template(session, key, locale)
            before = {"body": template.body} if template else None
            if template is None:
                template = MessageTemplate(key=key, locale=locale, body=body, updated_at=now)
                session.add(template)
            template.body = body
            template.updated_at = now
            await audit.record(
                session,
                actor=actor,
                action="template.update",
                entity_type="message_template",
                entity_id=f"{key}/{locale}",
                at=now,
                before=before,
                after={"body": body},
            )
        return template

    async def list_templates(self) -> list[MessageTemplate]:
        async with self.db.sessions() as session:
            return list(
                await session.scalars(
                    select(MessageTemplate).order_by(MessageTemplate.key, MessageTemplate.locale)
                )
            )

    async def queue_sms(
        self,
        to: str,
        template_key: str,
        values: Mapping[str, object],
        *,
        locale: str = "zh_CN",
        ref: str | None = None,
    ) -> OutboxMessage:
        """Render a template and queue it; the worker sends it within seconds."""
        number = normalize_phone(to)
        now = self.clock.now()
        async with self.db.transaction() as session:
            template = await _template(session, template_key, locale)
            if template is None:
                raise TemplateNotFound(f"no template {template_key!r} in {locale}")
            body = render(template.body, values)
            if len(body) > MAX_SMS_CHARS:
                raise InvalidInput("values", f"message longer than {MAX_SMS_CHARS} characters")
            message = OutboxMessage(
                to=number,
                body=body,
                template_key=template_key,
                ref=ref,
                status="queued",
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                template_id=template.id,
            )
            session.add(message)
        for wake in self.on_queued:
            wake()
        return message

    async def outbox(
        self, *, ref: str | None = None, to: str | None = None, limit: int = 100
    ) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).order_by(OutboxMessage.created_at.desc()).limit(limit)
        if ref:
            stmt = stmt.where(OutboxMessage.ref == ref)
        if to:
            stmt = stmt.where(OutboxMessage.to == normalize_phone(to))
        async with self.db.sessions() as session:
            return list(await session.scalars(stmt))


async def _template(session: AsyncSession, key: str, locale: str) -> MessageTemplate | None:
    return await session.scalar(
        select(MessageTemplate).where(MessageTemplate.key == key, MessageTemplate.locale == locale)
    )
