"""Trunks: configured through the API, matched by source address and dialled number."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from tests.webclient import bearer
from ticketline.demo import DEMO_TRUNK
from ticketline.telephony.models import Trunk
from ticketline.telephony.trunks import match_inbound


def trunk(name: str, sources: list[str], dids: list[str], enabled: bool = True) -> Trunk:
    return Trunk(
        name=name,
        host="198.51.100.1",
        port=5060,
        transport="udp",
        inbound_sources=sources,
        dids=dids,
        caller_id=None,
        registers=False,
        username=None,
        password=None,
        max_channels=10,
        enabled=enabled,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_inbound_requests_match_the_trunk_by_source_then_did() -> None:
    trunks = [
        trunk("hotline", ["198.51.100.0/24"], ["95105"]),
        trunk("general", ["198.51.100.0/24"], []),
        trunk("office", ["127.0.0.1"], []),
        trunk("disabled", ["203.0.113.5"], [], enabled=False),
    ]
    assert match_inbound(trunks, "198.51.100.7", "95105").name == "hotline"  # type: ignore[union-attr]
    assert match_inbound(trunks, "198.51.100.7", "4008").name == "general"  # type: ignore[union-attr]
    assert match_inbound(trunks, "127.0.0.1", None).name == "office"  # type: ignore[union-attr]
    assert match_inbound(trunks, "203.0.113.5", None) is None
    assert match_inbound(trunks, "192.0.2.1", "95105") is None


GOOD = {
    "name": "carrier",
    "host": "198.51.100.1",
    "inbound_sources": ["198.51.100.0/24"],
    "dids": ["95105"],
    "caller_id": "95105",
}


async def test_admin_configures_a_trunk_and_it_is_audited(client: httpx.AsyncClient) -> None:
    headers = await bearer(client, "admin")
    created = await client.post("/api/trunks", headers=headers, json=GOOD)
    assert created.status_code == 201, created.text
    assert "password" not in created.json()
    listing = await client.get("/api/trunks", headers=headers)
    assert [t["name"] for t in listing.json()] == sorted(["carrier", DEMO_TRUNK.name])
    audit = await client.get("/api/admin/audit", headers=headers, params={"entity_type": "trunk"})
    assert audit.json()["items"][0]["action"] == "trunk.create"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"inbound_sources": ["not-an-ip"]}, "inbound_sources"),
        ({"port": 70000}, "port"),
        ({"transport": "sctp"}, "transport"),
        ({"registers": True}, "body"),
        ({"dids": ["12ab"]}, "dids.0"),
    ],
)
async def test_bad_trunk_settings_are_refused(
    client: httpx.AsyncClient, change: dict[str, object], field: str
) -> None:
    headers = await bearer(client, "admin")
    response = await client.post("/api/trunks", headers=headers, json=GOOD | change)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["details"]["errors"]]


async def test_agents_cannot_touch_trunks_or_read_all_calls(client: httpx.AsyncClient) -> None:
    headers = await bearer(client, "agent1")
    assert (await client.post("/api/trunks", headers=headers, json=GOOD)).status_code == 403
    assert (await client.get("/api/calls", headers=headers)).status_code == 403
    supervisor = await bearer(client, "supervisor")
    calls = await client.get("/api/calls", headers=supervisor)
    assert calls.status_code == 200
    assert calls.json()["total"] == 0
