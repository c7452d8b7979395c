import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ticketline.media.frames import FRAME_SAMPLES
from ticketline.media.mixer import Mixer, PartyMode, bridge, interleave, mix_two


def constant(value: int) -> np.ndarray:
    return np.full(FRAME_SAMPLES, value, dtype=np.int16)


# Powers of two make every mixed value identify exactly which inputs it contains.
VOICES = {"caller": constant(1), "agent": constant(2), "supervisor": constant(4)}


def heard(outputs: dict, party: str) -> set[str]:
    value = int(outputs[party][0])
    return {name for name, voice in VOICES.items() if value & int(voice[0])}


def test_three_party_conference_each_hears_the_other_two() -> None:
    mixer = Mixer()
    for name in VOICES:
        mixer.add(name)
    out = mixer.mix(VOICES)
    assert heard(out, "caller") == {"agent", "supervisor"}
    assert heard(out, "agent") == {"caller", "supervisor"}
    assert heard(out, "supervisor") == {"caller", "agent"}


def test_listener_hears_both_and_is_heard_by_none() -> None:
    mixer = Mixer()
    mixer.add("caller")
    mixer.add("agent")
    mixer.add("supervisor", PartyMode.LISTEN)
    out = mixer.mix(VOICES)
    assert heard(out, "supervisor") == {"caller", "agent"}
    assert heard(out, "caller") == {"agent"}
    assert heard(out, "agent") == {"caller"}


def test_whisper_is_heard_only_by_its_target() -> None:
    mixer = Mixer()
    mixer.add("caller")
    mixer.add("agent")
    mixer.add("supervisor", PartyMode.WHISPER, whisper_to="agent")
    out = mixer.mix(VOICES)
    assert heard(out, "agent") == {"caller", "supervisor"}
    assert heard(out, "caller") == {"agent"}
    assert heard(out, "supervisor") == {"caller", "agent"}


def test_mute_silences_a_voice_but_not_its_ears() -> None:
    mixer = Mixer()
    for name in VOICES:
        mixer.add(name)
    mixer.set_muted("caller", True)
    out = mixer.mix(VOICES)
    assert heard(out, "agent") == {"supervisor"}
    assert heard(out, "caller") == {"agent", "supervisor"}
    mixer.set_muted("caller", False)
    assert heard(mixer.mix(VOICES), "agent") == {"caller", "supervisor"}


def test_missing_input_is_silence_and_removed_party_gets_nothing() -> None:
    mixer = Mixer()
    for name in VOICES:
        mixer.add(name)
    mixer.remove("supervisor")
    mixer.remove("nobody")
    out = mixer.mix({"caller": VOICES["caller"]})
    assert set(out) == {"caller", "agent"}
    assert heard(out, "caller") == set()
    assert heard(out, "agent") == {"caller"}
    assert Mixer().mix(VOICES) == {}


def test_mix_saturates_instead_of_wrapping() -> None:
    mixer = Mixer()
    for name in "abc":
        mixer.add(name)
    out = mixer.mix({"a": constant(30000), "b": constant(30000), "c": constant(-30000)})
    assert out["c"][0] == 32767
    assert out["a"][0] == 0
    assert mix_two(constant(-30000), constant(-30000))[0] == -32768


def test_invalid_settings_and_frames() -> None:
    mixer = Mixer()
    with pytest.raises(ValueError, match="needs whisper_to"):
        mixer.add("s", PartyMode.WHISPER)
    with pytest.raises(ValueError, match="whisper to itself"):
        mixer.add("s", PartyMode.WHISPER, whisper_to="s")
    mixer.add("a")
    with pytest.raises(ValueError, match="shape"):
        mixer.mix({"a": np.zeros(80, dtype=np.int16)})


def test_two_party_helpers() -> None:
    a, b = constant(1), constant(2)
    assert bridge(a, b) == (b, a)
    assert interleave(a, b)[:4].tolist() == [1, 2, 1, 2]


@given(st.lists(st.integers(-32768, 32767), min_size=3, max_size=6))
def test_normal_conference_output_is_total_minus_own_voice(levels: list[int]) -> None:
    mixer = Mixer()
    inputs = {index: constant(level) for index, level in enumerate(levels)}
    for index in inputs:
        mixer.add(index)
    out = mixer.mix(inputs)
    total = sum(levels)
    for index, level in enumerate(levels):
        assert out[index][0] == max(-32768, min(32767, total - level))
