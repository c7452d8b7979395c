"""Default message templates, and rendering with clear errors for missing values."""

from __future__ import annotations

import string
from collections.abc import Mapping

from ticketline.notify.errors import TemplateInvalid

DEFAULT_TEMPLATES: dict[tuple[str, str], str] = {
    ("order.booked", "zh_CN"): (
        "【{company}】您已预订{trip}，订单号{booking_code}，取票密码{pickup_code}。"
        "请于{pickup_deadline}前到{pickup_place}凭证件和取票密码取票。"
    ),
    ("order.booked", "en"): (
        "[{company}] Booked: {trip}. Booking code {booking_code}, pickup code {pickup_code}. "
        "Collect your ticket at {pickup_place} before {pickup_deadline} with your ID."
    ),
    ("order.issued", "zh_CN"): (
        "【{company}】您的车票已出票：{trip}，订单号{booking_code}，取票密码{pickup_code}，"
        "取票地点{pickup_place}，请于{pickup_deadline}前取票。"
    ),
    ("order.issued", "en"): (
        "[{company}] Ticket issued: {trip}. Booking code {booking_code}, pickup code "
        "{pickup_code}. Collect at {pickup_place} before {pickup_deadline}."
    ),
    ("pickup.resend", "zh_CN"): "【{company}】订单{booking_code}的取票密码是{pickup_code}。",
    ("pickup.resend", "en"): "[{company}] Pickup code for order {booking_code}: {pickup_code}.",
    ("credit.reminder", "zh_CN"): (
        "【{company}】您的订单{booking_code}尚欠{owed}元，请于{due}前付清。如已付款请忽略。"
    ),
    ("credit.reminder", "en"): (
        "[{company}] Order {booking_code} still owes {owed} yuan, due by {due}. "
        "Please ignore this if you have paid."
    ),
    ("trip.cancelled", "zh_CN"): (
        "【{company}】很抱歉，您订单{booking_code}的{trip}班次已取消。"
        "退票或改签均免手续费，请致电客服办理。"
    ),
    ("trip.cancelled", "en"): (
        "[{company}] Sorry: {trip} on your order {booking_code} is cancelled. "
        "A refund or change is free of charge; call us to arrange it."
    ),
    ("workorder.resolved", "zh_CN"): (
        "【{company}】您的工单{code}已处理完毕，回复1-5为本次服务评分。处理结果：{link}"
    ),
    ("workorder.resolved", "en"): (
        "[{company}] Your case {code} is resolved. Reply 1-5 to rate us, or see the answer: {link}"
    ),
    ("workorder.rated", "zh_CN"): "【{company}】感谢您对工单{code}的评价（{score}分）。",
    ("workorder.rated", "en"): "[{company}] Thank you for rating case {code} ({score} of 5).",
}

_formatter = string.Formatter()


def placeholders(body: str) -> set[str]:
    """The `{names}` a template uses; malformed braces are an error naming the template."""
    try:
        return {name for _, name, _, _ in _formatter.parse(body) if name}
    except ValueError as exc:
        raise TemplateInvalid("body", f"malformed placeholder: {exc}") from exc


def render(body: str, values: Mapping[str, object]) -> str:
    """Fill the template; every placeholder must be given (no silent blanks in an SMS)."""
    missing = sorted(placeholders(body) - set(values))
    if missing:
        raise TemplateInvalid("values", f"missing {', '.join(missing)}")
    for name in placeholders(body):
        if not name.isidentifier():
            raise TemplateInvalid("body", f"placeholder {{{name}}} is not a plain name")
    return body.format_map(dict(values))
