# ruff: noqa: S108  (a scratch file in /tmp)
"""Knowledge base search over many articles, Chinese and English queries.

    uv run python bench/bench_kb_search.py --articles 5000 --queries 2000

Writes generated articles (sentences from hotline vocabulary, half Chinese, half
English) to a scratch SQLite file, starts a fresh `KnowledgeBase` on it (the
index load is timed too), then times `KnowledgeBase.search` for random one- to
three-word queries. Prints p50/p95/p99/max in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ticketline.core.clock import SystemClock
from ticketline.db import migrate
from ticketline.db.session import Database
from ticketline.kb.models import KbArticle
from ticketline.kb.service import KnowledgeBase

SQLITE_PATH = Path("/tmp/ticketline_bench_kb.db")
ZH_WORDS = (
    "退票 改签 手续费 取票 密码 短信 儿童票 学生票 行李 遗失 物品 轮椅 重点旅客 支付 现金 转账 "
    "晚点 停运 保险 积分 会员 发票 报销 车站 窗口 列车 座位 靠窗 卧铺 二等座 一等座 商务座 "
    "春运 节假日 预订 订单 取消 补差价 退款 到账 投诉 建议 工单 客服 热线"
)
EN_WORDS = (
    "refund change fee pickup code text message child student luggage lost property wheelchair "
    "assistance payment cash transfer delay cancelled insurance points member receipt station "
    "window train seat sleeper class holiday booking order cancel difference complaint hotline "
    "agent schedule platform ticket passenger identity passport deadline"
)
ZH, EN = ZH_WORDS.split(), EN_WORDS.split()


def text(words: list[str], count: int, rng: random.Random, joiner: str) -> str:
    return joiner.join(rng.choice(words) for _ in range(count))


async def fill(db: Database, n: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    async with db.transaction() as session:
        for i in range(n):
            zh = i % 2 == 0
            words, joiner = (ZH, "") if zh else (EN, " ")
            session.add(
                KbArticle(
                    title=text(words, 3, rng, joiner)[:200],
                    body=text(words, 120, rng, joiner),
                    category="bench",
                    tags=[],
                    language="zh" if zh else "en",
                    work_order_types=[],
                    valid_from=None,
                    valid_until=None,
                    version=1,
                    updated_by="bench",
                    created_at=now,
                    updated_at=now,
                )
            )


async def main(articles: int, queries: int) -> None:
    rng = random.Random(7)
    db = Database(f"sqlite+aiosqlite:///{SQLITE_PATH}")
    await migrate.upgrade(db)
    await fill(db, articles, rng)
    kb = KnowledgeBase(db, SystemClock(), ZoneInfo("Asia/Shanghai"))
    started = time.perf_counter()
    await kb.warm_up()
    print(f"index of {articles} articles loaded in {time.perf_counter() - started:.2f} s")
    timings = []
    for _ in range(queries):
        zh = rng.random() < 0.5
        query = text(ZH if zh else EN, rng.randint(1, 3), rng, "" if zh else " ")
        t0 = time.perf_counter()
        await kb.search(query, limit=10)
        timings.append((time.perf_counter() - t0) * 1000)
    timings.sort()
    q = statistics.quantiles(timings, n=100)
    print(f"search over {articles} articles, {queries} queries: p50 {q[49]:.2f} ms, "
          f"p95 {q[94]:.2f} ms, p99 {q[98]:.2f} ms, max {timings[-1]:.2f} ms")  # fmt: skip
    await db.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=2000)
    args = parser.parse_args()
    SQLITE_PATH.unlink(missing_ok=True)
    asyncio.run(main(args.articles, args.queries))
