"""The corpus layer: building, metadata and dates, actor merging, tables, network, I/O.

Every corpus here is built by hand from DocumentResult objects with known probabilities,
so the expected means, counts and shares can be worked out on paper.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from stancekit.actors import Actor
from stancekit.actors.targets import Target
from stancekit.corpus import (
    AliasTable,
    AliasTableError,
    Corpus,
    CorpusError,
    CorpusWarning,
    load_aliases,
    name_key,
    resolve_actors,
)
from stancekit.results.judgements import AUTHOR, DocumentResult, Judgement
from stancekit.text.document import Document, Mention, Sentence

# (sentence, holder surface or None for the author, target, p_favor, p_against)
ARTICLES: dict[str, tuple[dict[str, Any], list[tuple[str, str | None, str, float, float]]]] = {
    "a": (
        {"date": "2022-11-28", "outlet": "Azatutyun"},
        [
            ("Nikol Pashinian criticised the CSTO.", "Nikol Pashinian", "CSTO", 0.1, 0.8),
            ("Pashinian said the CSTO had failed.", "Pashinian", "CSTO", 0.2, 0.6),
            ("The CSTO summit ended.", None, "CSTO", 0.1, 0.1),
        ],
    ),
    "b": (
        {"date": "2022-11-30T23:30:00-05:00", "outlet": "TASS"},
        [
            ("Pashinyan rejected the CSTO declaration.", "Pashinyan", "CSTO", 0.05, 0.9),
            ("Stanislav Zas praised the CSTO.", "Stanislav Zas", "CSTO", 0.9, 0.05),
            ("Zas criticised Pashinian.", "Stanislav Zas", "Pashinian", 0.1, 0.7),
        ],
    ),
    "c": (
        {"date": "2022-12-15", "outlet": "TASS"},
        [
            (
                "Armenian Prime Minister Nikol Pashinian thanked Stanislav Zas.",
                "Armenian Prime Minister Nikol Pashinian",
                "Stanislav Zas",
                0.7,
                0.1,
            ),
        ],
    ),
    "d": ({"date": "someday"}, [("Nobody knows.", None, "CSTO", 0.3, 0.3)]),
}


def make_result(doc_id: str) -> DocumentResult:
    meta, lines = ARTICLES[doc_id]
    text = " ".join(line[0] for line in lines)
    sentences, pos = [], 0
    for i, (sentence, *_rest) in enumerate(lines):
        sentences.append(Sentence(pos, pos + len(sentence), i, sentence))
        pos += len(sentence) + 1
    doc = Document(id=doc_id, text=text, meta=meta, sentences=tuple(sentences))
    judgements = []
    for s, (_, holder, target, pf, pa) in zip(sentences, lines, strict=True):
        start = s.text.find(holder) if holder else -1
        mention = (
            None
            if start < 0
            else Mention(
                s.start + start, s.start + start + len(holder or ""), holder or "", "PERSON"
            )
        )
        judgements.append(
            Judgement(
                document_id=doc_id,
                sentence=s,
                holder=None if holder is None else Actor(holder, "PERSON"),
                target=Target(target),
                stance=max(
                    {"favor": pf, "against": pa, "none": 1 - pf - pa}.items(), key=lambda kv: kv[1]
                )[0],
                stance_probs={"favor": pf, "against": pa, "none": 1 - pf - pa},
                sentiment="neutral",
                sentiment_probs={"positive": 0.2, "neutral": 0.6, "negative": 0.2},
                holder_mention=mention,
                attribution="author" if holder is None else "speaker",
            )
        )
    return DocumentResult(doc, (Target("CSTO"),), (), tuple(judgements))


def results() -> list[DocumentResult]:
    return [make_result(d) for d in ARTICLES]


@pytest.fixture
def corpus() -> Corpus:
    with pytest.warns(CorpusWarning, match="someday"):
        return Corpus.from_results(results())


def row(table: pd.DataFrame, **where: Any) -> dict[str, Any]:
    mask = pd.Series(True, index=table.index)
    for k, v in where.items():
        mask &= table[k] == v
    found = table[mask]
    assert len(found) == 1, f"{len(found)} rows match {where}"
    return dict(found.iloc[0])


# ---- building, metadata, dates -----------------------------------------------------


def test_every_judgement_row_carries_its_documents_metadata(corpus: Corpus) -> None:
    rows = corpus.to_dataframe()
    assert corpus.n_documents == 4 and corpus.n_judgements == 8
    assert set(rows.loc[rows["document_id"] == "b", "outlet"]) == {"TASS"}
    assert rows.loc[rows["document_id"] == "d", "outlet"].isna().all()


def test_dates_become_utc_timestamps_and_a_bad_date_is_flagged_nat(corpus: Corpus) -> None:
    docs = corpus.documents().set_index("document_id")
    assert docs.loc["a", "date"] == pd.Timestamp("2022-11-28")
    assert docs.loc["b", "date"] == pd.Timestamp("2022-12-01 04:30")  # -05:00 -> UTC
    assert docs["date"].isna()["d"]
    assert docs.loc["d", "date_flag"] == "unparseable"
    assert docs.loc["d", "date_raw"] == "someday"
    assert docs["date_flag"].isna()["a"]


def test_with_metadata_adds_and_replaces_fields_from_a_csv(corpus: Corpus, tmp_path: Path) -> None:
    csv = tmp_path / "meta.csv"
    csv.write_text("id,outlet,url\na,RFE/RL,u-a\nd,Mediamax,u-d\nzz,Nowhere,u-z\n")
    with pytest.warns(CorpusWarning, match="1 of 3 metadata rows match no document"):
        more = corpus.with_metadata(csv)
    docs = more.documents().set_index("document_id")
    assert docs.loc["a", "outlet"] == "RFE/RL" and docs.loc["b", "outlet"] == "TASS"
    assert docs.loc["d", "url"] == "u-d" and docs["url"].isna()["b"]
    assert corpus.documents().set_index("document_id").loc["a", "outlet"] == "Azatutyun"


def test_with_metadata_names_the_missing_id_column(corpus: Corpus) -> None:
    with pytest.raises(CorpusError, match="id_column"):
        corpus.with_metadata(pd.DataFrame({"doc": ["a"], "outlet": ["X"]}))


def test_a_new_date_from_metadata_is_parsed(corpus: Corpus) -> None:
    fixed = corpus.with_metadata({"d": {"date": "2022-12-16"}})
    docs = fixed.documents().set_index("document_id")
    assert docs.loc["d", "date"] == pd.Timestamp("2022-12-16")


# ---- actor identity ----------------------------------------------------------------


def test_surface_forms_of_one_person_merge_with_their_reasons(corpus: Corpus) -> None:
    merges = corpus.merges().set_index("surface")
    assert set(merges["canonical"]) == {"Nikol Pashinian"}
    assert merges.loc["Pashinian", "reason"] == "last-name"
    assert merges.loc["Pashinyan", "reason"] == "similarity"
    assert merges.loc["Armenian Prime Minister Nikol Pashinian", "reason"] == "exact"
    assert merges.loc["Pashinian", "count"] == 1
    assert corpus.actors()["actor"].tolist() == ["Nikol Pashinian", "Stanislav Zas"]


def test_transliterations_across_outlets_are_one_person() -> None:
    # RFE/RL writes Pashinian, Mirzoyan; TASS and others Pashinyan, Aliev, Mirzoian
    forms = {
        "Nikol Pashinian": ("PERSON", 3),
        "Nikol Pashinyan": ("PERSON", 2),
        "Pashinyan": ("PERSON", 1),
        "Ilham Aliyev": ("PERSON", 4),
        "Ilham Aliev": ("PERSON", 1),
        "Ararat Mirzoyan": ("PERSON", 2),
        "Ararat Mirzoian": ("PERSON", 1),
        "Mirzoian": ("PERSON", 1),
        "Heydar Aliyev": ("PERSON", 1),
    }
    identity = resolve_actors(forms)
    assert {identity.resolve(n) for n in ("Nikol Pashinyan", "Pashinyan")} == {"Nikol Pashinian"}
    assert identity.resolve("Ilham Aliev") == "Ilham Aliyev"
    assert identity.resolve("Ararat Mirzoian") == identity.resolve("Mirzoian") == "Ararat Mirzoyan"
    assert identity.resolve("Heydar Aliyev") == "Heydar Aliyev"  # another person
    # a bare surname two people share stays apart
    both = resolve_actors(
        {"Ilham Aliyev": ("PERSON", 1), "Heydar Aliyev": ("PERSON", 1), "Aliyev": ("PERSON", 1)}
    )
    assert both.resolve("Aliyev") == "Aliyev"


def test_name_key_sets_titles_possessives_and_case_aside() -> None:
    assert name_key("Armenian Prime Minister Nikol Pashinian's", "PERSON") == ("nikol", "pashinian")
    assert name_key("Foreign Ministry", "ORG") == ("foreign", "ministry")


def test_a_surname_shared_by_two_full_names_stays_apart() -> None:
    ident = resolve_actors(
        {"Ilham Aliyev": ("PERSON", 2), "Heydar Aliyev": ("PERSON", 1), "Aliyev": ("PERSON", 3)}
    )
    assert ident.canonical["Aliyev"] == "Aliyev"
    assert ident.canonical["Ilham Aliyev"] != ident.canonical["Heydar Aliyev"]


def test_a_bare_surname_in_another_spelling_stays_apart_when_two_people_share_it() -> None:
    forms = {"Ilham Aliev": ("PERSON", 2), "Heydar Aliyev": ("PERSON", 1), "Aliev": ("PERSON", 3)}
    ident = resolve_actors(forms)
    assert ident.canonical["Aliev"] == "Aliev"
    # with one Aliyev named, the other spelling joins him; a woman's form is someone else
    alone = resolve_actors(
        {"Ilham Aliyev": ("PERSON", 2), "Mehriban Aliyeva": ("PERSON", 1), "Aliev": ("PERSON", 1)}
    )
    assert alone.canonical["Aliev"] == "Ilham Aliyev"
    assert alone.canonical["Mehriban Aliyeva"] == "Mehriban Aliyeva"


def test_organisations_merge_only_on_the_same_name() -> None:
    ident = resolve_actors({"the CSTO": ("ORG", 1), "CSTO": ("ORG", 3), "CSTU": ("ORG", 1)})
    assert ident.canonical["the CSTO"] == "CSTO"
    assert ident.canonical["CSTU"] == "CSTU"


def test_alias_table_overrides_merging_and_keeps_a_name_apart(
    corpus: Corpus, tmp_path: Path
) -> None:
    table = tmp_path / "aliases.toml"
    table.write_text(
        '[[actor]]\nname = "Nikol Pashinyan"\naliases = ["Pashinian"]\n\n'
        '[[keep_apart]]\nnames = ["Pashinyan"]\n'
    )
    merged = corpus.with_aliases(table)
    canonical = merged.identity.canonical
    assert canonical["Pashinian"] == "Nikol Pashinyan"
    assert canonical["Nikol Pashinian"] == "Nikol Pashinyan"
    assert canonical["Pashinyan"] == "Pashinyan"
    merges = merged.merges().set_index("surface")
    assert merges.loc["Pashinian", "reason"] == "alias-table"
    assert merges.loc["Pashinyan", "reason"] == "do-not-merge"
    assert set(merged.actor_target(n_bootstrap=0)["holder"]) >= {"Nikol Pashinyan", "Pashinyan"}


def test_csv_alias_table_keeps_a_pair_apart(tmp_path: Path) -> None:
    path = tmp_path / "aliases.csv"
    path.write_text("canonical,alias,merge\nNikol Pashinian,Pashinyan,no\n")
    table = load_aliases(path)
    assert table.keep_apart == (("Nikol Pashinian", "Pashinyan"),)
    ident = resolve_actors({"Nikol Pashinian": ("PERSON", 3), "Pashinyan": ("PERSON", 1)}, table)
    assert ident.canonical["Pashinyan"] == "Pashinyan"


def test_alias_table_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "aliases.toml"
    bad.write_text('[[actor]]\naliases = ["x"]\n')
    with pytest.raises(AliasTableError, match=r"entry 0 needs name"):
        load_aliases(bad)
    yaml = tmp_path / "aliases.yaml"
    yaml.write_text("x: y\n")
    with pytest.raises(AliasTableError, match=r"use a \.toml or \.csv"):
        load_aliases(yaml)
    with pytest.raises(AliasTableError, match="single name"):
        AliasTable(keep_apart=("Aliyev",))  # type: ignore[arg-type]


# ---- tables ------------------------------------------------------------------------


def test_actor_target_means_counts_and_shares(corpus: Corpus) -> None:
    table = corpus.actor_target(n_bootstrap=200)
    p = row(table, holder="Nikol Pashinian", target="CSTO")
    assert p["n_sentences"] == 3 and p["n_documents"] == 2
    assert p["p_favor"] == pytest.approx((0.1 + 0.2 + 0.05) / 3)
    assert p["p_against"] == pytest.approx((0.8 + 0.6 + 0.9) / 3)
    assert p["share_against"] == 1.0 and p["share_favor"] == 0.0
    assert p["against_evidence"] == pytest.approx(0.8 + 0.6 + 0.9)
    assert p["stance"] == "against" and p["sentiment"] == "neutral"
    assert (p["documents_against"], p["documents_favor"]) == (2, 0)
    author = row(table, holder=AUTHOR, target="CSTO")
    assert author["n_sentences"] == 2 and author["p_none"] == pytest.approx((0.8 + 0.4) / 2)
    assert author["n_attributed"] == 0
    assert table["n_sentences"].iloc[0] == 3  # most sentences first


def test_a_one_document_corpus_has_the_documents_summary_cells() -> None:
    # one rule: the corpus table, the network and DocumentResult.summary() agree
    text = "Zas praised the CSTO. Zas doubted the CSTO. The CSTO met. The CSTO won."
    starts = [0, 22, 44, 58]
    ends = [*(s - 1 for s in starts[1:]), len(text)]
    sents = tuple(
        Sentence(a, b, i, text[a:b]) for i, (a, b) in enumerate(zip(starts, ends, strict=True))
    )
    doc = Document(id="one", text=text, sentences=sents)
    zas = Actor("Stanislav Zas", "PERSON", aliases=("Zas",))

    def j(i: int, holder: Actor | None, pf: float, pa: float) -> Judgement:
        probs = {"favor": pf, "against": pa, "none": round(1 - pf - pa, 4)}
        return Judgement(
            document_id="one",
            sentence=sents[i],
            holder=holder,
            target=Target("CSTO"),
            stance=max(probs, key=probs.__getitem__),
            stance_probs=probs,
            sentiment="neutral",
            sentiment_probs={"positive": pf, "neutral": round(1 - pf - pa, 4), "negative": pa},
            attribution="author" if holder is None else "speaker",
        )

    judgements = (
        j(0, zas, 0.6, 0.1),
        j(0, None, 0.6, 0.1),
        j(1, zas, 0.3, 0.2),
        j(1, None, 0.3, 0.2),
        j(2, None, 0.4, 0.1),
        j(3, None, 0.5, 0.1),
    )
    result = DocumentResult(doc, (Target("CSTO"),), (zas,), judgements)
    summary = {AUTHOR if r.holder is None else r.holder: r for r in result.summary().rows}
    table = Corpus.from_results([result]).actor_target(n_bootstrap=0)
    assert set(table["holder"]) == set(summary) == {AUTHOR, "Stanislav Zas"}
    for r in table.to_dict("records"):
        s = summary[r["holder"]]
        assert (r["stance"], r["sentiment"]) == (s.stance, s.sentiment)
        assert (r["n_sentences"], r["n_attributed"]) == (s.n_sentences, s.n_attributed)
        assert r["favor_evidence"] == pytest.approx(s.favor_evidence)
        assert r["against_evidence"] == pytest.approx(s.against_evidence)
    # the mean label would say none for both; the evidence says favor (0.9 sentences)
    assert summary["Stanislav Zas"].stance == summary[AUTHOR].stance == "favor"
    assert summary[AUTHOR].n_attributed == 2
    zas_row = row(table, holder="Stanislav Zas", target="CSTO")
    assert zas_row["documents_favor"] == 1 and zas_row["documents_against"] == 0
    evidence = Corpus.from_results([result]).evidence(top=5)
    author_sentences = evidence.loc[evidence["holder"] == AUTHOR, "sentence_index"]
    assert sorted(author_sentences) == [2, 3]  # the narrator's own sentences only


def test_state_level_corpus_cells_equal_the_documents_state_summary() -> None:
    text = "Mirzoyan and Pashinian criticised the CSTO. Aliyev praised Azerbaijan and the CSTO."
    cut = text.index(" Aliyev")
    sents = (Sentence(0, cut, 0, text[:cut]), Sentence(cut + 1, len(text), 1, text[cut + 1 :]))
    doc = Document(id="s", text=text, sentences=sents)
    mirzoyan = Actor("Ararat Mirzoyan", "PERSON", state="Armenia")
    pashinian = Actor("Nikol Pashinian", "PERSON", state="Armenia")
    aliyev = Actor("Ilham Aliyev", "PERSON", state="Azerbaijan")
    csto, az = Target("CSTO"), Target("Azerbaijan")

    def j(i: int, holder: Actor, target: Target, pf: float, pa: float) -> Judgement:
        probs = {"favor": pf, "against": pa, "none": round(1 - pf - pa, 4)}
        se = {"positive": 0.1, "neutral": 0.8, "negative": 0.1}
        return Judgement(
            "s", sents[i], holder, target, "none", probs, "neutral", se, attribution="agent"
        )

    js = (
        j(0, mirzoyan, csto, 0.1, 0.8),
        j(0, pashinian, csto, 0.1, 0.6),
        j(1, aliyev, az, 0.9, 0.05),
        j(1, aliyev, csto, 0.8, 0.1),
    )
    result = DocumentResult(doc, (csto, az), (mirzoyan, pashinian, aliyev), js)
    summary = {(r.holder, r.target): r for r in result.summary(level="state").rows}
    table = Corpus.from_results([result]).actor_target(n_bootstrap=0, level="state")
    assert (
        set(zip(table["holder"], table["target"], strict=True))
        == set(summary)
        == {
            ("Armenia", "CSTO"),
            ("Azerbaijan", "CSTO"),
        }
    )
    for r in table.to_dict("records"):
        s = summary[(r["holder"], r["target"])]
        assert (r["stance"], r["n_sentences"]) == (s.stance, s.n_sentences)
        assert r["against_evidence"] == pytest.approx(s.against_evidence)
    actors = Corpus.from_results([result]).actor_target(n_bootstrap=0)
    assert ("Ilham Aliyev", "Azerbaijan") in set(
        zip(actors["holder"], actors["target"], strict=True)
    )
    with pytest.raises(ValueError, match=r"'level' parameter must be one of .* Got 'nation'"):
        Corpus.from_results([result]).actor_target(n_bootstrap=0, level="nation")


def test_bootstrap_intervals_contain_their_estimates(corpus: Corpus) -> None:
    table = corpus.actor_target(n_bootstrap=300, seed=1)
    for r in table.to_dict("records"):
        assert r["favor_ci_low"] <= r["p_favor"] <= r["favor_ci_high"]
        assert r["against_ci_low"] <= r["p_against"] <= r["against_ci_high"]
        assert r["net_ci_low"] <= r["net"] <= r["net_ci_high"]
    p = row(table, holder="Nikol Pashinian", target="CSTO")
    assert p["against_ci_low"] < p["p_against"] < p["against_ci_high"]  # it varies: wide


def test_no_bootstrap_gives_nan_intervals(corpus: Corpus) -> None:
    table = corpus.actor_target(n_bootstrap=0)
    assert table["favor_ci_low"].isna().all()
    with pytest.raises(ValueError, match="'n_bootstrap'"):
        corpus.actor_target(n_bootstrap=-1)


def test_over_time_buckets_by_week_and_month(corpus: Corpus) -> None:
    weekly = corpus.over_time("W", actor="Pashinyan", target="CSTO", n_bootstrap=0)
    assert weekly["period"].tolist() == [pd.Timestamp("2022-11-28")]  # Monday of a and b
    assert weekly["n_sentences"].tolist() == [3]
    monthly = corpus.over_time("M", n_bootstrap=0)
    periods = sorted(set(monthly["period"]))
    assert periods == [pd.Timestamp("2022-11-01"), pd.Timestamp("2022-12-01")]
    # b (2022-11-30 23:30 -05:00) is 2022-12-01 in UTC: December
    counts = {
        (str(r["period"].date()), r["holder"], r["target"]): r["n_sentences"]
        for r in monthly.to_dict("records")
    }
    assert counts == {
        ("2022-11-01", "Nikol Pashinian", "CSTO"): 2,
        ("2022-11-01", AUTHOR, "CSTO"): 1,
        ("2022-12-01", "Nikol Pashinian", "CSTO"): 1,
        ("2022-12-01", "Nikol Pashinian", "Stanislav Zas"): 1,
        ("2022-12-01", "Stanislav Zas", "CSTO"): 1,
        ("2022-12-01", "Stanislav Zas", "Pashinian"): 1,
    }  # d, undated, is left out


def test_over_time_rejects_an_unknown_frequency(corpus: Corpus) -> None:
    with pytest.raises(ValueError, match=r"'freq'.*Got 'Y'"):
        corpus.over_time("Y")


def test_by_outlet_groups_and_marks_unknown_outlets(corpus: Corpus) -> None:
    table = corpus.by_outlet(n_bootstrap=0)
    tass = row(table, outlet="TASS", holder="Nikol Pashinian", target="CSTO")
    assert tass["n_sentences"] == 1 and tass["p_against"] == pytest.approx(0.9)
    assert row(table, outlet="(unknown)", holder=AUTHOR, target="CSTO")["n_sentences"] == 1
    with pytest.raises(ValueError, match=r"'field'.*'publisher'"):
        corpus.by_outlet(field="publisher")


def test_evidence_gives_the_strongest_sentences_with_offsets(corpus: Corpus) -> None:
    ev = corpus.evidence(top=2)
    pair = ev[(ev["holder"] == "Nikol Pashinian") & (ev["target"] == "CSTO")]
    assert pair["rank"].tolist() == [1, 2]
    best = dict(pair.iloc[0])
    assert best["sentence"] == "Pashinyan rejected the CSTO declaration."
    assert best["stance"] == "against" and best["strength"] == pytest.approx(0.9)
    text = make_result(best["document_id"]).document.text
    assert text[best["sentence_start"] : best["sentence_end"]] == best["sentence"]


# ---- network -------------------------------------------------------------------------


def test_network_links_actors_that_are_targets(corpus: Corpus) -> None:
    edges = corpus.network().edges.set_index(["source", "target"])
    assert set(edges.index) == {
        ("Stanislav Zas", "Nikol Pashinian"),  # target "Pashinian" is the actor
        ("Nikol Pashinian", "Stanislav Zas"),
    }
    assert edges.loc[("Stanislav Zas", "Nikol Pashinian"), "weight"] == pytest.approx(-0.6)
    assert edges.loc[("Nikol Pashinian", "Stanislav Zas"), "weight"] == pytest.approx(0.6)


def test_network_signs_edges_by_the_summary_rule(corpus: Corpus) -> None:
    # one sentence with p(against) 0.7: under the 0.75 sentences of evidence the rule needs
    zas = row(corpus.network().edges, source="Stanislav Zas", target="Nikol Pashinian")
    assert zas["against_evidence"] == pytest.approx(0.7)
    assert (zas["stance"], zas["sign"]) == ("none", 0)
    edges = corpus.network(min_evidence=0.5).edges.set_index(["source", "target"])
    assert edges.loc[("Stanislav Zas", "Nikol Pashinian"), "sign"] == -1
    assert edges.loc[("Nikol Pashinian", "Stanislav Zas"), "stance"] == "favor"
    with pytest.raises(ValueError, match=r"'min_evidence' parameter of network .* Got -1"):
        corpus.network(min_evidence=-1)


def test_network_exports_to_networkx_and_graphml(corpus: Corpus, tmp_path: Path) -> None:
    import networkx as nx

    net = corpus.network()
    graph = net.to_networkx()
    assert graph["Stanislav Zas"]["Nikol Pashinian"]["weight"] == pytest.approx(-0.6)
    assert graph.nodes["Nikol Pashinian"]["kind"] == "PERSON"
    path = net.write_graphml(tmp_path / "g" / "net.graphml")
    ET.parse(path)  # well-formed XML
    back = nx.read_graphml(path)
    assert set(back.edges()) == set(graph.edges())
    assert back["Nikol Pashinian"]["Stanislav Zas"]["weight"] == pytest.approx(0.6)
    assert net.to_dict()["edges"][0]["source"] in {"Nikol Pashinian", "Stanislav Zas"}


# ---- reading and writing -------------------------------------------------------------


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_read_jsonl_of_cli_records_gives_the_same_table(corpus: Corpus, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [r for res in results() for r in res.to_records()])
    back = Corpus.read_jsonl(path)  # no metadata in CLI records: no date, no warning
    assert back.n_judgements == corpus.n_judgements
    cols = ["holder", "target", "n_sentences", "p_favor", "p_against"]
    pd.testing.assert_frame_equal(
        back.actor_target(n_bootstrap=0)[cols], corpus.actor_target(n_bootstrap=0)[cols]
    )


def test_read_jsonl_of_whole_results_keeps_document_metadata(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "r.jsonl", [res.to_dict() for res in results()])
    with pytest.warns(CorpusWarning):
        back = Corpus.read_jsonl(path)
    docs = back.documents().set_index("document_id")
    assert docs.loc["c", "outlet"] == "TASS" and docs.loc["c", "n_document_sentences"] == 1


def test_read_jsonl_errors_name_the_line_and_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"document_id": "a"}\nnot json\n')
    with pytest.raises(CorpusError, match="line 2: not JSON"):
        Corpus.read_jsonl(bad)
    summary = write_jsonl(tmp_path / "s.jsonl", make_result("a").summary().to_records())
    with pytest.raises(CorpusError, match="without --summary"):
        Corpus.read_jsonl(summary)
    with pytest.raises(CorpusError, match=r"missing column\(s\) \['p_favor'"):
        Corpus.from_dataframe(
            pd.DataFrame(
                {"document_id": ["a"], "sentence_index": [0], "holder": ["X"], "target": ["Y"]}
            )
        )


def test_read_jsonl_of_deeply_nested_or_huge_json_is_a_corpus_error_not_a_crash(
    tmp_path: Path,
) -> None:
    # fuzz find (benchmarks/fuzz.py, cli_report): a line of 5,000 "[" raised RecursionError
    deep = tmp_path / "deep.jsonl"
    deep.write_text('{"document_id": "a"}\n' + "[" * 5000 + "\n")
    with pytest.raises(CorpusError, match="line 2: not JSON \\(RecursionError\\)"):
        Corpus.read_jsonl(deep)
    huge = tmp_path / "huge.json"
    huge.write_text("1" * 5000)
    with pytest.raises(CorpusError, match="not JSON"):
        Corpus.read_jsonl(huge)


def test_parquet_round_trip_keeps_rows_documents_and_aliases(
    corpus: Corpus, tmp_path: Path
) -> None:
    table = AliasTable({"Nikol Pashinyan": ("Pashinian",)})
    before = corpus.with_aliases(table)
    path = before.write_parquet(tmp_path / "c.parquet")
    with pytest.warns(CorpusWarning):
        after = Corpus.read_parquet(path)
    assert after.aliases == table
    assert after.n_documents == before.n_documents
    cols = [
        "document_id",
        "sentence_index",
        "holder",
        "holder_surface",
        "target",
        "p_favor",
        "outlet",
        "date",
    ]
    pd.testing.assert_frame_equal(
        after.to_dataframe()[cols], before.to_dataframe()[cols], check_dtype=False
    )
    pd.testing.assert_frame_equal(after.merges(), before.merges())


def test_read_parquet_of_a_folder_of_shards_keeps_failed_documents(tmp_path: Path) -> None:
    records = [r for res in results() for r in res.to_records()]
    frame = pd.DataFrame([*records, {"document_id": "e", "error": "ValueError: boom"}])
    folder = tmp_path / "shards"
    folder.mkdir()
    frame.iloc[:4].to_parquet(folder / "part-0.parquet")
    frame.iloc[4:].to_parquet(folder / "part-1.parquet")
    back = Corpus.read_parquet(folder)
    assert back.n_judgements == 8 and back.n_documents == 5
    docs = back.documents().set_index("document_id")
    assert docs.loc["e", "error"] == "ValueError: boom" and docs["error"].isna()["a"]


def test_to_dict_is_plain_json(corpus: Corpus) -> None:
    data = json.loads(json.dumps(corpus.to_dict()))
    assert data["n_documents"] == 4 and len(data["judgements"]) == 8
    assert {m["surface"] for m in data["merges"]} >= {"Pashinian", "Pashinyan"}
    assert data["documents"][3]["date"] is None
    assert repr(corpus) == "Corpus(n_documents=4, n_judgements=8, n_actors=2)"


def test_empty_corpus_gives_empty_tables() -> None:
    empty = Corpus.from_results([])
    assert empty.n_documents == 0
    assert empty.actor_target().empty and empty.network().edges.empty
    assert empty.over_time("W").empty and empty.evidence().empty
