"""``ragqa eval qa`` end to end on real XQuAD paragraphs with a real packaged llama.cpp model (the 0.5B: the
report's shape and bookkeeping are tested here; the default model's quality is what the README's runs measure)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragqa.config import Settings
from ragqa.errors import InputError
from ragqa.eval.qa_eval import answer_tokens, exact_match, gold_recall, run_qa_eval, token_f1
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.openai_backend import OpenAIBackend
from ragqa.generation.sampling import SamplingParams
from tests.fixed_model import FixedAnswerServer


@pytest.fixture
def one_article(shared_data: Path, tmp_path: Path) -> Path:
    data = json.loads((shared_data / "xquad" / "xquad.en.json").read_text(encoding="utf-8"))
    path = tmp_path / "xquad-en-one.json"
    path.write_text(json.dumps({"data": data["data"][:1], "version": "1.1"}), encoding="utf-8")
    return path


def test_answer_tokens_segment_mixed_text_as_cmrc_does() -> None:
    assert answer_tokens("The Denver Broncos, [2] won!") == ["denver", "broncos", "won"]
    assert answer_tokens("主队丢了 308 分[1][2]。") == ["主", "队", "丢", "了", "308", "分"]
    assert answer_tokens("客队(Visiting Team)") == ["客", "队", "visiting", "team"]


def test_a_number_gold_scores_inside_a_chinese_answer() -> None:
    # a gold answer with no Chinese character ("308") against a Chinese answer: the number is one token on
    # both sides, not "308" against "3", "0", "8"
    answer = "主队防线全年丢了 308 分[1][2]。"
    assert gold_recall(answer, ["308"]) == 1.0
    assert token_f1(answer, ["308"]) == pytest.approx(2 * (1 / 10) / (1 + 1 / 10))
    assert exact_match("308。", ["308"]) == 1.0 and exact_match(answer, ["308"]) == 0.0
    assert gold_recall("丢了 380 分", ["308"]) == 0.0
    assert token_f1("第六", ["排名第六"]) == pytest.approx(
        2 * 1 * (2 / 4) / (1 + 2 / 4)
    )  # characters overlap


def _rows(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def test_answerable_and_unanswerable_sets(
    settings: Settings, small_backend: LlamaCppBackend, one_article: Path, tmp_path: Path
) -> None:
    params = SamplingParams(temperature=0, seed=0, max_tokens=80)
    report = run_qa_eval(settings, one_article, small_backend, limit=2, out=tmp_path / "qa", params=params)
    m = report.metrics
    for key in (
        "exact_match",
        "token_f1",
        "faithfulness",
        "contradicted",
        "unverifiable",
        "citation_precision",
        "citation_recall",
        "citations_resolve",
        "refusal_rate",
        "correct_refusal_rate",
        "p50_ms",
    ):
        assert key in m and m[key] == m[key], key  # present, and never NaN
    assert m["questions"] == 2 and m["unanswerable_questions"] == 2
    # metrics are the served (verified) answers', metrics.raw the model text's; both from one generation
    assert m["verify"] == "drop" and set(m["raw"]) >= {"token_f1", "faithfulness", "unanswerable_safe_rate"}
    assert m["refusal_rate"] >= m["raw"]["refusal_rate"] and 0 <= m["unanswerable_safe_rate"] <= 1
    assert m["unanswerable_safe_rate"] >= m["raw"]["unanswerable_safe_rate"]
    points, local = [t for t in report.tables if t.title.startswith("Operating points")]
    assert [row[0] for row in points.rows][4] == "0.90 (chosen)" and len(points.rows) == 6
    assert [row[0] for row in local.rows][2] == "0.60 (chosen)" and local.columns[0] == "locality bar"
    for table in (points, local):
        answered = [row[1] for row in table.rows]
        assert answered == sorted(answered, reverse=True)  # a higher bar never answers more
    for item in report.items:
        served = item["served"]
        copied = served.get("retried")  # the second ask after an unsupported answer: a copy, not a cut
        assert (
            served["refused"]
            or item["status"] != "ok"
            or copied
            or len(served["answer"]) <= len(item["answer"])
        )
        if served["refused"] and not item["refused"]:
            assert served["refusal_reason"] == "unsupported"
    answerable = [i for i in report.items if i["set"] == "answerable"]
    held_out = [i for i in report.items if i["set"] == "unanswerable"]
    assert all(i["gold_retrieved"] for i in answerable)  # one article: its paragraph is always found
    for item in held_out:  # the question's own paragraph never reaches the model
        assert item["gold_doc"] not in item["source_docs"] and item["source_docs"]
    for item in report.items:
        if item["status"] == "ok" and not item["refused"]:
            assert item["claims"] and {c["verdict"] for c in item["claims"]} <= {
                "supported",
                "contradicted",
                "unverifiable",
            }
    assert {"retrieval", "generation", "answer"} <= set(report.latency_ms)
    html = (tmp_path / "qa" / "report.html").read_text()
    assert "faithfulness (answered)" in html and "latency per stage" in html
    assert (
        html.count('class="tradeoff"') == 2 and "0.90 (chosen)" in html
    )  # each bar's points drawn as a curve

    # every finished question was logged as it finished; a stopped run resumes instead of starting over
    logged = (tmp_path / "qa" / "answers.jsonl").read_text().splitlines()
    assert len(logged) == 4
    with pytest.raises(InputError, match="--resume"):
        run_qa_eval(settings, one_article, small_backend, limit=2, out=tmp_path / "qa", params=params)
    (tmp_path / "qa" / "answers.jsonl").write_text("\n".join(logged[:2]) + "\n" + logged[2][:40])  # cut short
    again = run_qa_eval(
        settings, one_article, small_backend, limit=2, out=tmp_path / "qa", params=params, resume=True
    )
    assert again.extra["resumed_questions"] == 1
    assert [i["answer"] for i in again.items][:1] == [report.items[0]["answer"]]
    assert again.metrics["questions"] == 2 and again.metrics["unanswerable_questions"] == 2

    # --recheck scores the kept answers again against the same sources, found again by retrieval, without
    # generating: wiping the logged checks and gold scores and re-checking restores them
    logged = _rows(tmp_path / "qa" / "answers.jsonl")  # the line cut short above is skipped
    checked = {r["id"]: r["claims"] for r in logged if r.get("claims")}
    scores = {r["id"]: (r["exact_match"], r["token_f1"], r["gold_recall"]) for r in logged}
    assert checked
    wiped = [
        {**r, "claims": [], "faithfulness": -1.0, "token_f1": -1.0, "gold_recall": -1.0, "exact_match": -1.0}
        if r["id"] in checked
        else r
        for r in logged
    ]
    (tmp_path / "qa" / "answers.jsonl").write_text("".join(json.dumps(r) + "\n" for r in wiped))
    rechecked = run_qa_eval(
        settings,
        one_article,
        small_backend,
        limit=2,
        out=tmp_path / "qa",
        params=params,
        resume=True,
        recheck=True,
    )
    assert rechecked.extra["recheck_sources_changed"] == 0 and rechecked.extra["rechecked_answers"] == 4
    assert rechecked.extra["resumed_questions"] == 2  # nothing was generated
    restored = _rows(tmp_path / "qa" / "answers.jsonl")
    assert {r["id"]: r["claims"] for r in restored if r["id"] in checked} == checked
    assert all(r["faithfulness"] >= 0 for r in restored if "faithfulness" in r)
    assert {r["id"]: (r["exact_match"], r["token_f1"], r["gold_recall"]) for r in restored} == scores


def test_missing_file(settings: Settings, small_backend: LlamaCppBackend, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such SQuAD file"):
        run_qa_eval(settings, tmp_path / "nope.json", small_backend)


@pytest.mark.parametrize("answers", [True, False])
def test_served_rows_get_the_second_ask_after_an_unsupported_answer(
    settings: Settings, tmp_path: Path, answers: bool
) -> None:
    """As the service does: the model's invented answer is refused by verification, the model is asked to copy
    the answering sentence, and the copy — verified, and read as an answer to the question — is what the served
    metrics score; raw stays the model's. A copied sentence about something else leaves the refusal."""
    passage = (
        "The Harrow Point lighthouse was first lit in 1852. It stands on a granite ledge at the mouth of the "
        "estuary. Its last keeper was Edith Marlow, who left the station in 1961."
    )
    qa = {
        "id": "q1",
        "question": "When was the Harrow Point lighthouse first lit?",
        "answers": [{"text": "1852"}],
    }
    squad = tmp_path / "harrow.json"
    squad.write_text(
        json.dumps({"data": [{"title": "Harrow", "paragraphs": [{"context": passage, "qas": [qa]}]}]})
    )
    copied = (
        "The Harrow Point lighthouse was first lit in 1852 [1]."
        if answers
        else "It stands on a granite ledge at the mouth of the estuary [1]."
    )
    model = FixedAnswerServer(
        "Its keeper kept forty goats on the island [1].", when=(("word for word", copied),)
    )
    try:
        backend = OpenAIBackend(model.url, model="fixed", timeout=30, context_window=4096)
        report = run_qa_eval(settings, squad, backend, limit=1, out=tmp_path / "qa", unanswerable=False)
    finally:
        model.close()
    (row,) = report.items
    assert row["faithfulness"] == 0.0 and row["gold_recall"] == 0.0  # raw: the invented answer
    assert row["served"]["retried"] and "retry" in row["timings_ms"]
    assert report.metrics["raw"]["faithfulness"] == 0.0
    if answers:
        assert row["served"]["answer"] == copied and not row["served"]["refused"]
        assert row["served"]["gold_recall"] == 1.0 and row["served"]["faithfulness"] == 1.0
        assert report.metrics["refusal_rate"] == 0.0
    else:
        assert row["served"]["refused"] and row["served"]["refusal_reason"] == "unsupported"
        assert report.metrics["refusal_rate"] == 1.0
