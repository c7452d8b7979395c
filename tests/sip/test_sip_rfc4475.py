"""RFC 4475 torture messages: every message meets the expectation of MANIFEST.tsv."""

from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from ticketline.sip import Request, Response, SipParseError, SipUri, parse
from ticketline.sip.validate import check_request


def _find_corpus() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent.parent / "shared" / "conformance" / "rfc4475"
        if (candidate / "MANIFEST.tsv").is_file():
            return candidate
    raise FileNotFoundError("shared/conformance/rfc4475 not found next to the repository")


CORPUS = _find_corpus()


@dataclass(frozen=True)
class Case:
    file: str
    expect: str
    status: int | None
    size: int
    sha256: str

    def data(self) -> bytes:
        return (CORPUS / self.file).read_bytes()


def _load_cases() -> list[Case]:
    with (CORPUS / "MANIFEST.tsv").open(newline="", encoding="utf-8") as manifest:
        rows = list(csv.DictReader(manifest, delimiter="\t"))
    return [
        Case(r["file"], r["expect"], int(r["status"]) if r["status"] else None, int(r["bytes"]),
             r["sha256"])
        for r in rows
    ]  # fmt: skip


CASES = _load_cases()
CASE_IDS = [case.file.removesuffix(".dat") for case in CASES]


def load(name: str) -> bytes:
    return (CORPUS / f"{name}.dat").read_bytes()


def parse_request(name: str) -> Request:
    message = parse(load(name))
    assert isinstance(message, Request)
    return message


def test_manifest_lists_all_49_messages() -> None:
    assert len(CASES) == 49


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_file_is_byte_exact(case: Case) -> None:
    data = case.data()
    assert len(data) == case.size
    assert hashlib.sha256(data).hexdigest() == case.sha256


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_message_meets_manifest_expectation(case: Case) -> None:
    if case.expect == "reject":
        with pytest.raises(SipParseError) as error:
            parse(case.data())
        assert error.value.status == (case.status or 400)
        return
    message = parse(case.data())
    if case.expect == "parse-then-refuse" or (case.expect == "parse" and case.status):
        assert isinstance(message, Request)
        refusal = check_request(message)
        assert refusal is not None
        assert refusal.status == case.status


@pytest.mark.parametrize(
    "name", ["wsinv", "esc01", "escnull", "lwsdisp", "longreq", "dblreq", "semiuri",
             "transports", "cparam01", "cparam02", "regescrt", "zeromf", "inv2543", "badbranch"]
)  # fmt: skip
def test_well_formed_requests_are_accepted_by_an_endpoint(name: str) -> None:
    supported_types = ("application/sdp",)
    assert check_request(parse_request(name), accepted_content_types=supported_types) is None


def test_wsinv_whitespace_and_folding() -> None:
    request = parse_request("wsinv")
    assert request.cseq == (9, "INVITE")
    assert request.max_forwards == 68
    assert [(v.transport, v.host) for v in request.vias] == [
        ("UDP", "192.0.2.2"),
        ("TCP", "spindle.example.com"),
        ("UDP", "192.168.255.111"),
    ]
    assert request.vias[2].branch == "z9hG4bK30239"
    assert request.headers.get("Subject") == ""
    (contact,) = request.contacts
    assert contact.display_name == 'Quoted string ""'
    assert contact.q == pytest.approx(0.33)
    assert request.from_.display_name == 'J Rosenberg \\"'
    assert request.to.tag == "1918181833n"
    assert len(request.body) == 150


def test_intmeth_keeps_strange_tokens_and_raw_bytes() -> None:
    request = parse_request("intmeth")
    assert request.method == "!interesting-Method0123456789_*+`.%indeed'~"
    assert request.to.display_name == "BEL:\x07 NUL:\x00 DEL:\x7f"
    value = request.headers.get("extensionHeader-!.%*+_`'~")
    assert value is not None
    assert value.encode("utf-8", "surrogateescape") == bytes.fromhex("EFBBBFE5A4A7E5819CE99BBB")
    refusal = check_request(request)
    assert refusal is not None
    assert refusal.status == 501


def test_esc01_unescapes_once() -> None:
    request = parse_request("esc01")
    assert isinstance(request.uri, SipUri)
    assert request.uri.user == "sips:user@example.com"
    assert request.uri.host == "example.net"
    contact_uri = request.contacts[0].uri
    assert isinstance(contact_uri, SipUri)
    assert contact_uri.user == "caller"
    assert contact_uri.param("lr") == ""
    assert contact_uri.param("name") == "value%41"


def test_escnull_keeps_nuls() -> None:
    request = parse_request("escnull")
    users = [c.uri.user for c in request.contacts if isinstance(c.uri, SipUri)]
    assert users == ["\x00", "\x00\x00"]
    assert isinstance(request.to.uri, SipUri)
    assert request.to.uri.user == "null-\x00-null"
    assert request.headers.get("Content-Length") == "0"


def test_esc02_percent_is_not_an_escape_everywhere() -> None:
    request = parse_request("esc02")
    assert request.method == "RE%47IST%45R"
    assert len(request.contacts) == 2
    assert request.headers.get("C%6Fntact") == "<sip:alias2@host2.example.com>"
    assert request.to.display_name == "%Z%45"


def test_lwsdisp_display_name_without_space() -> None:
    address = parse_request("lwsdisp").from_
    assert address.display_name == "caller"
    assert str(address.uri) == "sip:caller@example.com"
    assert address.tag == "323"


def test_longreq_long_values() -> None:
    request = parse_request("longreq")
    assert len(request.vias) == 34
    assert len(request.call_id) == 141
    assert len(request.body) == 150


def test_dblreq_ignores_trailing_octets() -> None:
    request = parse_request("dblreq")
    assert request.method == "REGISTER"
    assert request.cseq == (8, "REGISTER")
    assert request.body == b""


def test_semiuri_user_part_with_semicolons() -> None:
    uri = parse_request("semiuri").uri
    assert isinstance(uri, SipUri)
    assert (uri.user, uri.host, uri.params) == ("user;par=u@example.net", "example.com", ())


def test_transports_in_order() -> None:
    vias = parse_request("transports").vias
    assert [via.transport for via in vias] == ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]


def test_mpart01_body_framed_by_content_length() -> None:
    request = parse_request("mpart01")
    assert len(request.body) == 553
    assert b"\x00" in request.body
    assert request.content_type == "multipart/mixed"


def test_unreason_keeps_raw_reason_bytes() -> None:
    response = parse(load("unreason"))
    assert isinstance(response, Response)
    assert response.status == 200
    assert response.reason.startswith("= 2**3 * 5**2 ")
    raw = load("unreason").split(b"\r\n", 1)[0]
    assert raw.split(b" ", 2)[2] == response.reason.encode("utf-8", "surrogateescape")
    assert len(response.body) == 154


def test_noreason_empty_reason() -> None:
    response = parse(load("noreason"))
    assert isinstance(response, Response)
    assert (response.status, response.reason) == (100, "")


def test_cparam_contact_versus_uri_parameter() -> None:
    header_param = parse_request("cparam01").contacts[0]
    uri_param = parse_request("cparam02").contacts[0]
    assert header_param.param("unknownparam") == ""
    assert isinstance(header_param.uri, SipUri)
    assert header_param.uri.params == ()
    assert isinstance(uri_param.uri, SipUri)
    assert uri_param.uri.param("unknownparam") == ""
    assert uri_param.params == ()


def test_regescrt_keeps_uri_header() -> None:
    uri = parse_request("regescrt").contacts[0].uri
    assert isinstance(uri, SipUri)
    assert uri.headers == (("Route", "<sip:sip.example.com>"),)


def test_bext01_lists_only_require_tags_as_unsupported() -> None:
    refusal = check_request(parse_request("bext01"))
    assert refusal is not None
    assert refusal.headers.get("Unsupported") == "nothingSupportsThis, nothingSupportsThisEither"


def test_invut_415_carries_accept() -> None:
    refusal = check_request(parse_request("invut"))
    assert refusal is not None
    assert refusal.headers.get("Accept") == "application/sdp"


def test_inv2543_body_runs_to_end_of_datagram() -> None:
    request = parse_request("inv2543")
    assert len(request.body) == 105
    assert request.max_forwards is None
    assert request.top_via.branch is None


def test_badbranch_and_zero_max_forwards_parse() -> None:
    assert parse_request("badbranch").top_via.branch == "z9hG4bK"
    assert parse_request("zeromf").max_forwards == 0


def test_insuf_refusal_copies_what_exists() -> None:
    refusal = check_request(parse_request("insuf"))
    assert refusal is not None
    assert refusal.headers.get("CSeq") == "193942 INVITE"
    assert "To" not in refusal.headers


ACCEPTED = [case for case in CASES if case.expect != "reject"]


@pytest.mark.parametrize("case", ACCEPTED, ids=[c.file for c in ACCEPTED])
def test_serialize_then_parse_is_stable(case: Case) -> None:
    message = parse(case.data())
    again = parse(message.serialize())
    # serialize() adds the Content-Length a datagram could omit (inv2543).
    assert again.headers.without("Content-Length") == message.headers.without("Content-Length")
    assert again.body == message.body
    assert again.serialize() == message.serialize()
