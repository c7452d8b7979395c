"""Phone numbers are stored in E.164 whatever form a person or a SIP header gives."""

from __future__ import annotations

import pytest

from ticketline.core.errors import InvalidInput
from ticketline.crm.phones import normalize, try_normalize


@pytest.mark.parametrize(
    "given",
    ["13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000", "+8613800138000"],
)
def test_every_form_of_a_mobile_number_is_the_same_number(given: str) -> None:
    assert normalize(given) == "+8613800138000"


def test_landlines_and_foreign_numbers() -> None:
    assert normalize("021-6888 8888") == "+862168888888"
    assert normalize("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("given", ["", "12", "abc", "1380013800", "+86 999", "9" * 50])
def test_malformed_numbers_name_the_field(given: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        normalize(given, field="phones.0.number")
    assert caught.value.details["field"] == "phones.0.number"


def test_caller_ids_that_are_not_numbers_are_unknown_not_errors() -> None:
    assert try_normalize("anonymous") is None
    assert try_normalize(None) is None
    assert try_normalize("13800138000") == "+8613800138000"
