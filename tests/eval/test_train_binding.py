"""``ragqa train binding`` as a user runs it: a separate process, made-up data in the shared sets' formats; the
weights it writes load, score claims, and are the same bytes when trained again with the same seed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ragqa.generation.verify.binding_model import BindingVerifier, BindingWeights

PEOPLE = [
    "Ana Ruiz",
    "Ben Ortiz",
    "Clara Holt",
    "David Park",
    "Eva Lind",
    "Felix Brandt",
    "Greta Koch",
    "Hugo Berg",
]
TOWNS = [
    "Varberg",
    "Norwood",
    "Liege",
    "Aldren",
    "Kestrel",
    "Lowell",
    "Marden",
    "Penrose",
    "Quarry",
    "Redhill",
]


def _squad(path: Path) -> None:
    """Ten articles (training uses 7 and up), a paragraph each with questions whose answers are its spans."""
    data = []
    for a, town in enumerate(TOWNS):
        founder, keeper = PEOPLE[a % len(PEOPLE)], PEOPLE[(a + 3) % len(PEOPLE)]
        year, other = 1800 + 7 * a, 1900 + 3 * a
        context = (
            f"The {town} Lighthouse stands on a rock west of the harbour. {founder} built it in {year}. "
            f"{keeper} kept its lamp until {other} and then wrote a history of {town}."
        )
        qas = [
            (f"Who built the {town} Lighthouse?", founder),
            (f"When was the {town} Lighthouse built?", str(year)),
            (f"Until when did {keeper} keep the lamp?", str(other)),
            (f"Who kept the lamp of the {town} Lighthouse?", keeper),
        ]
        data.append(
            {
                "title": town,
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": f"{a}-{i}",
                                "question": q,
                                "answers": [{"text": t, "answer_start": context.index(t)}],
                            }
                            for i, (q, t) in enumerate(qas)
                        ],
                    }
                ],
            }
        )
    path.write_text(json.dumps({"data": data}), encoding="utf-8")


def _halueval(path: Path) -> None:
    rows = [
        {
            "knowledge": f"{p} was born in {t}. {p} later moved to {TOWNS[(i + 1) % len(TOWNS)]}.",
            "question": f"Where was {p} born?",
            "right_answer": t,
            "hallucinated_answer": f"{p} was born in {TOWNS[(i + 1) % len(TOWNS)]}.",
        }
        for i, (p, t) in enumerate(zip(PEOPLE, TOWNS, strict=False))
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def _train(tmp_path: Path, out: Path) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "train", "binding", "--halueval", str(tmp_path / "halu.jsonl"),
         "--squad", str(tmp_path / "squad.json"), "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"binding verifier written to {out}" in done.stdout
    return done.stdout.split("sha256 ")[1].split()[0]


def test_train_binding_writes_weights_that_load_score_and_reproduce(tmp_path: Path) -> None:
    _squad(tmp_path / "squad.json")
    _halueval(tmp_path / "halu.jsonl")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    digest = _train(tmp_path, first)
    assert _train(tmp_path, second) == digest and first.read_bytes() == second.read_bytes()
    weights = BindingWeights.read(first, digest)
    assert weights.trained["squad_articles"] == {"squad.json": [7, 47]}
    assert weights.trained["examples"] > 10 and 0 < weights.trained["supported"] < weights.trained["examples"]
    (p,) = BindingVerifier(weights).score_claims(
        ["Ana Ruiz built the Varberg Lighthouse."],
        [json.loads((tmp_path / "squad.json").read_text())["data"][0]["paragraphs"][0]["context"]],
        "",
    )
    assert 0.0 <= p <= 1.0


def test_missing_data_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "train", "binding", "--halueval", str(tmp_path / "nope.jsonl"),
         "--out", str(tmp_path / "w.json")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0 and "does not exist" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "w.json").exists()
