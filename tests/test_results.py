from __future__ import annotations

import pytest

from stancekit.actors import Actor
from stancekit.actors.targets import Target
from stancekit.results.judgements import DocumentResult, Judgement
from stancekit.text.document import Document, Mention, Sentence

TEXT = "Zas praised the CSTO. Zas doubted the CSTO. The CSTO met."
SENTS = (
    Sentence(0, 21, 0, TEXT[0:21]),
    Sentence(22, 43, 1, TEXT[22:43]),
    Sentence(44, 57, 2, TEXT[44:57]),
)
DOC = Document(id="d", text=TEXT, sentences=SENTS)
ZAS = Actor(
    name="Stanislav Zas",
    kind="PERSON",
    aliases=("Zas",),
    mentions=(Mention(0, 3, "Zas", "PERSON"), Mention(22, 25, "Zas", "PERSON")),
)
CSTO = Target("CSTO")


def _j(sent: Sentence, holder: Actor | None, fav: float, ag: float) -> Judgement:
    st = {"favor": fav, "against": ag, "none": round(1 - fav - ag, 6)}
    se = {"positive": fav, "neutral": round(1 - fav - ag, 6), "negative": ag}
    return Judgement(
        document_id="d",
        sentence=sent,
        holder=holder,
        target=CSTO,
        stance=max(st, key=st.__getitem__),
        stance_probs=st,
        sentiment=max(se, key=se.__getitem__),
        sentiment_probs=se,
        holder_mention=None if holder is None else holder.mentions[0],
        target_mention=Mention(
            sent.start + sent.text.index("CSTO"),
            sent.start + sent.text.index("CSTO") + 4,
            "CSTO",
            "TARGET",
        ),
        attribution="author" if holder is None else "speaker",
    )


RESULT = DocumentResult(
    DOC,
    (CSTO,),
    (ZAS,),
    (
        _j(SENTS[0], ZAS, 0.9, 0.05),
        _j(SENTS[1], ZAS, 0.2, 0.6),
        _j(SENTS[2], None, 0.1, 0.1),
    ),
)


def test_summary_averages_probabilities_per_holder_and_target() -> None:
    rows = {r.holder: r for r in RESULT.summary().rows}
    zas = rows["Stanislav Zas"]
    assert zas.n_sentences == 2
    assert zas.stance_probs["favor"] == pytest.approx(0.55)
    assert zas.stance_probs["against"] == pytest.approx(0.325)
    assert zas.stance == "favor"
    assert zas.evidence == SENTS[0]  # the most confident favor/against sentence
    assert rows[None].stance == "none" and rows[None].n_sentences == 1


def test_one_clear_sentence_among_many_neutral_ones_sets_the_summary_stance() -> None:
    # two sentences say nothing (p_none 0.9; sentence 1 judged twice, counted once), one
    # says "against" (0.85): the mean of the probabilities is "none", while the expected
    # number of "against" sentences is 0.85 + 0.05 + 0.05 = 0.95 >= 0.75
    js = (
        _j(SENTS[0], ZAS, 0.05, 0.85),
        _j(SENTS[1], ZAS, 0.05, 0.05),
        _j(SENTS[1], ZAS, 0.05, 0.05),
        _j(SENTS[2], ZAS, 0.05, 0.05),
    )
    result = DocumentResult(DOC, (CSTO,), (ZAS,), js)
    row = result.summary().rows[0]
    assert row.n_sentences == 3
    assert max(row.stance_probs, key=row.stance_probs.__getitem__) == "none"
    assert row.against_evidence == pytest.approx(0.95)
    assert row.favor_evidence == pytest.approx(0.15)
    assert row.stance == "against" and row.sentiment == "negative"
    assert result.summary(min_evidence=1.0).rows[0].stance == "none"
    assert {"favor_evidence", "against_evidence", "negative_evidence"} <= set(row.to_dict())


def test_summary_is_the_same_when_raw_probabilities_differ_below_the_rounding() -> None:
    # batch sizes change float32 sums by ~1e-7: two such runs round every row the same, and
    # their summaries must agree too (raw sums could straddle a rounding boundary:
    # 0.30345 + 3e-8 vs - 3e-8 over two sentences)
    def run(eps: float) -> dict[str, object]:
        js = (
            _j(SENTS[0], ZAS, 0.1, 0.15172500 + eps),
            _j(SENTS[1], ZAS, 0.1, 0.15172500 + eps),
        )
        res = DocumentResult(DOC, (CSTO,), (ZAS,), js)
        assert [r["p_against"] for r in res.to_records()] == [0.1517, 0.1517]
        return res.summary().rows[0].to_dict()

    low, high = run(-3e-8), run(3e-8)
    assert low == high
    assert low["against_evidence"] == 0.3034  # the sum of the rows as shown


def test_min_evidence_must_be_positive() -> None:
    with pytest.raises(ValueError, match=r"'min_evidence' parameter of summary .* Got 0"):
        RESULT.summary(min_evidence=0)


def test_the_texts_own_row_leaves_out_sentences_of_actors_and_counts_them() -> None:
    # the narrator's voice is judged in all three sentences, but Zas speaks in the first
    # two: what Zas says (favor, 0.9) is not the outlet's stance
    js = (
        _j(SENTS[0], ZAS, 0.9, 0.05),
        _j(SENTS[0], None, 0.9, 0.05),
        _j(SENTS[1], ZAS, 0.2, 0.6),
        _j(SENTS[1], None, 0.2, 0.6),
        _j(SENTS[2], None, 0.1, 0.1),
    )
    result = DocumentResult(DOC, (CSTO,), (ZAS,), js)
    rows = {r.holder: r for r in result.summary().rows}
    assert rows[None].n_sentences == 1 and rows[None].n_attributed == 2
    assert rows[None].favor_evidence == pytest.approx(0.1) and rows[None].stance == "none"
    assert rows[None].evidence == SENTS[2]
    assert rows["Stanislav Zas"].n_sentences == 2 and rows["Stanislav Zas"].n_attributed == 0
    assert len(result.to_records()) == 5  # the per-sentence rows keep every judgement
    only_attributed = DocumentResult(DOC, (CSTO,), (ZAS,), js[:2])
    assert [r.holder for r in only_attributed.summary().rows] == ["Stanislav Zas"]


def test_records_point_into_the_text() -> None:
    for rec in RESULT.to_records():
        assert TEXT[rec["sentence_start"] : rec["sentence_end"]] == rec["sentence"]
        assert TEXT[rec["target_start"] : rec["target_end"]] == rec["target_text"]
        if rec["holder_start"] is not None:
            assert TEXT[rec["holder_start"] : rec["holder_end"]] == rec["holder_text"]


def test_dataframes_have_one_row_per_judgement_and_per_summary_row() -> None:
    df = RESULT.to_dataframe()
    assert len(df) == 3
    assert {"holder", "target", "stance", "p_favor", "p_negative", "flags"} <= set(df.columns)
    assert len(RESULT.summary().to_dataframe()) == 2


def test_offsets_in_tables_are_integers_and_missing_ones_stay_empty_in_csv() -> None:
    df = RESULT.to_dataframe()  # the author's row has no holder mention
    assert str(df["holder_start"].dtype) == "Int64" and df["holder_start"].isna().sum() == 1
    row = df.to_csv(index=False).splitlines()[1].split(",")
    cols = list(df.columns)
    assert row[cols.index("holder_start")] == "0" and row[cols.index("target_end")] == "20"
    assert ",," in df.to_csv(index=False).splitlines()[3]  # the author: empty, not NaN
    summary = RESULT.summary().to_dataframe()
    assert str(summary["evidence_start"].dtype) == "Int64"


def test_empty_result_still_has_the_columns() -> None:
    empty = DocumentResult(Document(id="e", text=""), (CSTO,))
    assert empty.to_dataframe().empty and "stance" in empty.to_dataframe().columns
    assert empty.summary().to_dataframe().empty
    assert empty.ok


def test_to_dict_is_json_serialisable() -> None:
    import json

    d = json.loads(json.dumps(RESULT.to_dict()))
    assert d["document"]["sentences"][1]["start"] == 22
    assert d["actors"][0]["name"] == "Stanislav Zas"


def test_record_probabilities_are_rounded_to_prob_decimals_in_one_place() -> None:
    from dataclasses import replace

    from stancekit.results.judgements import PROB_DECIMALS

    noisy = replace(
        RESULT.judgements[0],
        stance_probs={"favor": 0.1234567891, "against": 0.3, "none": 0.5765432109},
    )
    rec = noisy.to_dict()
    assert PROB_DECIMALS == 4
    assert (rec["p_favor"], rec["p_none"]) == (0.1235, 0.5765)
    assert noisy.stance_probs["favor"] == 0.1234567891  # the mapping keeps full precision
    row = DocumentResult(DOC, (CSTO,), (), (noisy,)).summary().rows[0].to_dict()
    assert row["p_favor"] == 0.1235


def test_json_line_escapes_surrogates_so_the_line_is_utf8_and_reads_back() -> None:
    import json

    from stancekit.results.judgements import json_line

    rec = {"sentence": "a\ud800b", "holder": "Zoë", "p": 0.5, "emoji": "👩\u200d👧"}
    line = json_line(rec)
    assert "\\ud800" in line and "Zoë" in line and "👩" in line  # only surrogates escaped
    line.encode("utf-8")
    assert json.loads(line) == rec
    with pytest.raises(ValueError):
        json_line({"p": float("nan")})


def test_batch_summary_counts_results_skips_flags_and_unmentioned_targets() -> None:
    from stancekit.results.judgements import BatchSummary

    azerbaijan = Target("Azerbaijan")
    summary = BatchSummary()
    summary.add(RESULT)
    summary.add(DocumentResult(DOC, (CSTO, azerbaijan), flags=("html", "non_english")))
    bad = DocumentResult(Document(id="x", text=""), (CSTO,), error="TypeError: item 2: ...")
    summary.add(bad)
    assert (summary.n_documents, summary.n_analysed, summary.n_skipped) == (3, 2, 1)
    assert summary.n_judgements == 3
    assert summary.skipped == {"TypeError": 1}
    assert summary.flagged == {"html": 1, "non_english": 1}
    assert summary.judged_targets == {"CSTO": 1}
    assert summary.unmentioned_targets == ("Azerbaijan",)
    assert summary.to_dict()["n_skipped"] == 1
    assert str(summary) == (
        "3 documents: 2 analysed, 1 skipped (TypeError 1); flagged: html 1, non_english 1; "
        "never mentioned: Azerbaijan"
    )


def test_state_level_rolls_officials_up_to_their_country_and_drops_self_stance() -> None:
    text = "Mirzoyan and Pashinian criticised the CSTO. Aliyev praised Azerbaijan."
    cut = text.index(" Aliyev")
    s0, s1 = Sentence(0, cut, 0, text[:cut]), Sentence(cut + 1, len(text), 1, text[cut + 1 :])
    doc = Document(id="s", text=text, sentences=(s0, s1))
    mirzoyan = Actor("Ararat Mirzoyan", "PERSON", state="Armenia")
    pashinian = Actor("Nikol Pashinian", "PERSON", state="Armenia")
    aliyev = Actor("Ilham Aliyev", "PERSON", state="Azerbaijan")
    zas = Actor("Stanislav Zas", "PERSON")
    az = Target("Azerbaijan")

    def j(sent: Sentence, holder: Actor, target: Target, fav: float, ag: float) -> Judgement:
        st = {"favor": fav, "against": ag, "none": round(1 - fav - ag, 6)}
        se = {"positive": 0.1, "neutral": 0.8, "negative": 0.1}
        return Judgement("s", sent, holder, target, "none", st, "neutral", se)

    js = (
        j(s0, mirzoyan, CSTO, 0.1, 0.8),
        j(s0, pashinian, CSTO, 0.1, 0.6),
        j(s0, zas, CSTO, 0.1, 0.1),
        j(s1, aliyev, az, 0.9, 0.05),
    )
    result = DocumentResult(doc, (CSTO, az), (mirzoyan, pashinian, aliyev, zas), js)
    actors = {(r.holder, r.target) for r in result.summary().rows}
    assert ("Ilham Aliyev", "Azerbaijan") in actors  # an official toward his own state
    rows = {(r.holder, r.target): r for r in result.summary(level="state").rows}
    assert set(rows) == {("Armenia", "CSTO"), ("Stanislav Zas", "CSTO")}
    armenia = rows[("Armenia", "CSTO")]
    assert armenia.n_sentences == 1  # one vote per sentence: the two officials averaged
    assert armenia.against_evidence == pytest.approx(0.7)
    with pytest.raises(ValueError, match=r"'level' parameter of summary .* Got 'country'"):
        result.summary(level="country")
