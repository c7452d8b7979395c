"""The demo's knowledge base: 15 hotline topics, each in Chinese and English (30 articles)."""

from __future__ import annotations

from ticketline.admin.security import SYSTEM
from ticketline.kb.schemas import ArticleIn
from ticketline.kb.service import KnowledgeBase

# (category, tags, work order types, (zh title, zh body), (en title, en body))
TOPICS: tuple[tuple[str, list[str], list[str], tuple[str, str], tuple[str, str]], ...] = (
    ("refund", ["退票", "手续费"], ["refund_dispute"],
     ("退票手续费规则", "开车前8天以上退票免收手续费；48小时以上8天以内收取票价5%；"
      "24小时以上48小时以内收取10%；不足24小时收取20%。开车后不能退票，可在当日办理改签。"),
     ("Refund fees", "Refunds more than 8 days before departure are free; 48 hours to 8 days: "
      "5% of the fare; 24 to 48 hours: 10%; less than 24 hours: 20%. After departure a ticket "
      "cannot be refunded but can be changed the same day.")),
    ("change", ["改签"], ["refund_dispute"],
     ("改签规则", "开车前可改签一次，改签到更高票价的车次需补差价，改签到更低票价的车次退还差价，"
      "春运期间改签到其他日期按退票规则收费。"),
     ("Changing a ticket", "A ticket may be changed once before departure. A dearer trip costs "
      "the difference; a cheaper one refunds it. In the Spring Festival rush, a change to "
      "another date is charged as a refund.")),
    ("pickup", ["取票密码", "短信"], ["information"],
     ("取票密码与取票", "出票后取票密码通过短信发送到订单联系电话。凭乘车人证件和取票密码在车站"
      "售票窗口或自助机取票。密码遗失可通过热线按4重新发送。"),
     ("Pickup code", "After issue, the pickup code is sent by text message to the booking's "
      "phone. Collect tickets at a station window or machine with the passenger's ID and the "
      "code. Lost it? Press 4 on the hotline to have it sent again.")),
    ("children", ["儿童票", "优惠"], ["information"],
     ("儿童票购买规定", "身高1.2米以下儿童免费乘车但不占座；1.2米至1.5米购买儿童票，享受半价优惠；"
      "超过1.5米购买全价票。"),
     ("Children's fares", "Children under 1.2 m travel free without a seat; from 1.2 m to 1.5 m "
      "they pay the child fare, half the adult fare; above 1.5 m the full fare.")),
    ("student", ["学生票", "优惠"], ["information"],
     ("学生票购买规定", "全日制在校学生凭学生证每学年可购买四次家庭至学校区间的学生票，二等座享受"
      "七五折优惠。"),
     ("Student fares", "Full-time students with a student card may buy four student tickets a "
      "year between home and school, at 25% off second class.")),
    ("luggage", ["行李", "携带品"], ["information"],
     ("随身携带行李规定", "每位成人旅客可免费携带20公斤行李，儿童10公斤，外部尺寸长宽高之和不超过"
      "130厘米。禁止携带易燃易爆物品。"),
     ("Luggage allowance", "Each adult may carry 20 kg free, children 10 kg; the sum of length, "
      "width and height must not exceed 130 cm. Flammable or explosive goods are forbidden.")),
    ("lost_property", ["失物招领", "遗失"], ["lost_property"],
     ("遗失物品查找", "在列车或车站遗失物品，请拨打热线按6登记工单，提供车次、座位号和物品特征。"
      "找到后我们会短信通知您到车站领取。"),
     ("Lost property", "Lost something on a train or at a station? Press 6 on the hotline to "
      "open a work order with the train, seat and a description. We text you when it is found.")),
    ("assistance", ["重点旅客", "轮椅"], ["special_assistance"],
     ("重点旅客预约服务", "老幼病残孕旅客可在开车前12小时预约进站协助、轮椅和爱心座位，请在订票时"
      "告知客服。"),
     ("Special assistance", "Elderly, disabled or pregnant travellers can book help at the "
      "station, a wheelchair or a priority seat up to 12 hours before departure.")),
    ("payment", ["支付", "现金", "转账"], ["information"],
     ("支付方式", "可使用现金、银行卡、支票、银行转账和网上支付。企业客户可申请月结挂账，到期前"
      "三天短信提醒。"),
     ("Payment methods", "Cash, cards, cheques, bank transfer and online payment are accepted. "
      "Business customers may pay monthly on credit and get a reminder three days before due.")),
    ("hold", ["预留", "过期"], ["information"],
     ("订单保留时间", "电话预订的订单保留15分钟等待确认，确认后24小时内未支付将自动取消，座位"
      "释放给其他旅客。"),
     ("How long a booking is held", "A phone booking is held 15 minutes while you decide; once "
      "confirmed, it is cancelled automatically if unpaid after 24 hours.")),
    ("complaint", ["投诉", "建议"], ["complaint"],
     ("投诉处理流程", "投诉受理后生成工单号，一般投诉2个工作日内首次回复，5个工作日内办结。可凭"
      "工单号和来电号码在热线按6查询进度。"),
     ("How complaints are handled", "Each complaint gets a work order number. We reply within "
      "2 working days and resolve within 5. Press 6 on the hotline to check progress.")),
    ("delay", ["晚点", "停运"], ["refund_dispute"],
     ("列车晚点与停运", "因列车停运或晚点导致无法乘车的，可在车站或热线免费退票，不收手续费。"),
     ("Delays and cancellations", "If a train is cancelled or so late that you cannot travel, "
      "the refund is free of any fee at the station or on the hotline.")),
    ("insurance", ["保险", "意外险"], ["information"],
     ("乘车意外险", "购票时可加购乘车意外险，每份3元，保障乘车期间的意外伤害。退票时保险费全额"
      "退还。"),
     ("Travel insurance", "Accident insurance can be added for 3 yuan per ticket, covering the "
      "journey. It is refunded in full with the ticket.")),
    ("points", ["积分", "会员"], ["information"],
     ("会员积分规则", "每消费1元累计1积分，积分有效期两年，可在订票时抵扣票款，100积分抵1元。"),
     ("Loyalty points", "Earn 1 point per yuan spent. Points last two years and pay for tickets "
      "at 100 points to the yuan.")),
    ("invoice", ["发票", "报销"], ["information"],
     ("报销凭证", "乘车前后30天内凭证件在车站窗口打印报销凭证，每张车票只能打印一次。"),
     ("Receipts for expenses", "Print an expense receipt at a station window within 30 days of "
      "travel with your ID; each ticket prints once.")),
)  # fmt: skip


async def seed_kb(kb: KnowledgeBase) -> int:
    """Write the demo articles unless the knowledge base has some already."""
    if await kb.count():
        return 0
    for category, tags, types, zh, en in TOPICS:
        for language, (title, body) in (("zh", zh), ("en", en)):
            await kb.create(SYSTEM, ArticleIn(title=title, body=body, category=category,
                                              tags=tags, language=language,
                                              work_order_types=types))  # fmt: skip
    return 2 * len(TOPICS)
