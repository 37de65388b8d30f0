"""Context compression: the best-ranked source whole, the others by their sentence that bears most on the
question; a sentence already shown is not repeated, a source with none of the question's words is dropped,
and the hits (spans, ids) are left as they were — in English and Chinese."""

from __future__ import annotations

from ragqa.generation.compress import compress
from ragqa.generation.prompt import pack_prompt
from ragqa.types import Hit


def _hit(n: int, text: str) -> Hit:
    return Hit(f"c{n}", f"d{n}", 1.0 / n, text, f"Doc {n}", f"doc{n}.txt", (10, 10 + len(text)))


TOP = "Harrow Point is a headland. The lighthouse there was first lit in 1852. Gulls nest on its cliffs."
SECOND = (
    "Ferries cross the bay twice a day. Edith Marlow kept the Harrow Point light until 1961. Tea is served."
)
OVERLAP = "The lighthouse there was first lit in 1852. Gulls nest on its cliffs."
UNRELATED = "Bananas are rich in potassium. They ripen quickly."


def test_top_whole_others_by_their_best_sentence() -> None:
    hits = [_hit(1, TOP), _hit(2, SECOND), _hit(3, OVERLAP), _hit(4, UNRELATED)]
    kept = compress("Who kept the Harrow Point lighthouse?", hits)
    assert kept.texts[0] == TOP
    assert kept.texts[1] == "Edith Marlow kept the Harrow Point light until 1961."
    assert [h.chunk_id for h in kept.hits] == [
        "c1",
        "c2",
    ]  # the overlap adds nothing new; bananas, nothing asked
    assert kept.hits[1] is hits[1] and kept.hits[1].text == SECOND  # citations still point at the whole chunk


def test_chinese_sources_are_compressed_by_jieba_terms() -> None:
    top = "港角灯塔位于河口。它于1852年首次点亮。"
    second = "渡轮每天往返两次。港角灯塔最后一任看守人是伊迪丝·马洛。附近有一家茶馆。"
    kept = compress("港角灯塔最后一任看守人是谁？", [_hit(1, top), _hit(2, second)])
    assert kept.texts == [top, "港角灯塔最后一任看守人是伊迪丝·马洛。"]


def test_the_prompt_shows_the_compressed_texts_numbered_as_kept() -> None:
    hits = [_hit(1, TOP), _hit(2, UNRELATED), _hit(3, SECOND)]
    kept = compress("Who kept the Harrow Point lighthouse?", hits)
    packed = pack_prompt(
        "Who kept the Harrow Point lighthouse?",
        kept.hits,
        count_tokens=lambda text: len(text) // 4,
        context_window=4096,
        max_new_tokens=256,
        texts=kept.texts,
    )
    user = packed.messages[1].content
    assert "[2] Doc 3\nEdith Marlow kept the Harrow Point light until 1961." in user
    assert "Tea is served" not in user and "Bananas" not in user
    assert [h.chunk_id for h in packed.sources] == ["c1", "c3"]
