"""The summary rule's parts: the evidence label, its threshold check, reported speech."""

from __future__ import annotations

import pytest

from stancekit.results.summarize import (
    SENTIMENT_LABELS,
    SUMMARY_MIN_EVIDENCE,
    check_min_evidence,
    evidence_label,
    is_attributed,
    is_own_state,
)


def test_evidence_label_takes_the_stance_with_more_evidence_once_it_reaches_the_floor() -> None:
    assert evidence_label(0.9, 0.2) == "favor"
    assert evidence_label(0.2, 0.9) == "against"
    assert evidence_label(0.74, 0.1) == "none"  # below the default 0.75
    assert evidence_label(SUMMARY_MIN_EVIDENCE, 0.0) == "favor"  # the floor itself counts
    assert evidence_label(0.74, 0.1, min_evidence=0.5) == "favor"
    assert evidence_label(1.0, 1.0) == "favor"  # a tie goes to the first label
    assert evidence_label(0.1, 2.0, labels=SENTIMENT_LABELS) == "negative"
    assert evidence_label(0.1, 0.2, labels=SENTIMENT_LABELS) == "neutral"


@pytest.mark.parametrize("bad", [0, -1, "1", None, True, float("nan")])
def test_min_evidence_must_be_a_positive_number(bad: object) -> None:
    with pytest.raises(ValueError, match=r"'min_evidence' parameter of over_time .* Got"):
        check_min_evidence(bad, "over_time")
    assert check_min_evidence(2, "x") == 2.0


def test_a_sentence_with_a_speaker_or_agent_is_an_actors() -> None:
    assert is_attributed(["author", "speaker"])
    assert is_attributed(["author", "agent"])
    assert not is_attributed(["author"])
    assert not is_attributed([])


def test_a_state_is_its_own_target_by_name_alias_or_country() -> None:
    assert is_own_state("Azerbaijan", ["Azerbaijan"])
    assert is_own_state("Azerbaijan", ["Azerbaijan Republic", "Baku"])  # a name's country
    assert is_own_state("Armenia", ["armenia"])
    assert not is_own_state("Armenia", ["CSTO", "Collective Security Treaty Organization"])
