"""Digest authentication: RFC 2617 vector, our challenges, client answers."""

from __future__ import annotations

import pytest

from ticketline.sip.digest import (
    VerifyResult,
    answer_challenge,
    authorization_username,
    compute_ha1,
    make_challenge,
    parse_auth_header,
    verify,
)

SECRET = b"server-secret"
NOW = 1_800_000_000.0


PASSWORD = "Circle Of Life"


def _login(algorithm: str = "MD5", password: str = PASSWORD, now: float = NOW) -> str:
    challenge = make_challenge("ticketline", now, SECRET, algorithm)
    return answer_challenge(
        str(challenge), "REGISTER", "sip:ticketline", "alice", password, cnonce="0a4f113b"
    )


def test_rfc2617_example_response() -> None:
    challenge = (
        'Digest realm="testrealm@host.com", qop="auth,auth-int", '
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    answer = answer_challenge(
        challenge, "GET", "/dir/index.html", "Mufasa", "Circle Of Life", "0a4f113b"
    )
    _, params = parse_auth_header(answer)
    assert params["response"] == "6629fae49393a05397450978507c4ef1"
    assert params["opaque"] == "5ccc069c403ebaf9f0171e9517f40e41"
    assert params["nc"] == "00000001"


@pytest.mark.parametrize("algorithm", ["MD5", "SHA-256"])
def test_server_accepts_a_correct_answer(algorithm: str) -> None:
    authorization = _login(algorithm)
    result = verify(authorization, "REGISTER", NOW + 10, SECRET, "ticketline",
                    password="Circle Of Life")  # fmt: skip
    assert result is VerifyResult.OK
    assert authorization_username(authorization) == "alice"


def test_ha1_can_replace_the_password() -> None:
    ha1 = compute_ha1("alice", "ticketline", "Circle Of Life")
    assert verify(_login(), "REGISTER", NOW, SECRET, "ticketline", ha1=ha1) is VerifyResult.OK


def test_wrong_password_wrong_method_and_forged_nonce_are_bad() -> None:
    good = "Circle Of Life"
    assert verify(_login(password="x"), "REGISTER", NOW, SECRET, "ticketline",
                  password=good) is VerifyResult.BAD  # fmt: skip
    assert verify(_login(), "INVITE", NOW, SECRET, "ticketline", password=good) is (
        VerifyResult.BAD
    )
    assert verify(_login(), "REGISTER", NOW, b"other", "ticketline", password=good) is (
        VerifyResult.BAD
    )
    assert verify("Basic YWxpY2U6eA==", "REGISTER", NOW, SECRET, "ticketline", password=good) is (
        VerifyResult.BAD
    )


def test_old_nonce_is_stale_not_bad() -> None:
    result = verify(_login(), "REGISTER", NOW + 301, SECRET, "ticketline",
                    password="Circle Of Life")  # fmt: skip
    assert result is VerifyResult.STALE
    assert "stale=true" in str(make_challenge("ticketline", NOW, SECRET, stale=True))


def test_auth_params_with_quoted_commas() -> None:
    scheme, params = parse_auth_header('Digest realm="a, b", nonce=xyz, qop="auth"')
    assert scheme == "Digest"
    assert params == {"realm": "a, b", "nonce": "xyz", "qop": "auth"}
