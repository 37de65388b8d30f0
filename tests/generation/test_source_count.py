from ragqa.generation.source_count import close_to_best
from ragqa.types import Hit


def _hit(n: int, dense: float | None) -> Hit:
    return Hit(
        f"c{n}", f"d{n}", 1.0 / n, f"text {n}", f"Doc {n}", f"doc{n}.txt", (0, 6), scores={"dense": dense}
    )


def _ids(hits: list[Hit]) -> list[str]:
    return [h.chunk_id for h in hits]


def test_sources_far_below_the_best_are_left_out_after_the_minimum() -> None:
    candidates = [_hit(1, 0.90), _hit(2, 0.50), _hit(3, 0.80), _hit(4, 0.85), _hit(5, 0.55), _hit(6, 0.40)]
    # on the 0.40–0.90 scale: 1.0, 0.2, 0.8, 0.9, 0.3, 0.0
    kept = close_to_best(candidates[:5], candidates, min_k=2, falloff=0.4)
    assert _ids(kept) == ["c1", "c2", "c3", "c4"]  # c2 is within the minimum; c5 falls off; rank order kept
    assert _ids(close_to_best(candidates[:5], candidates, min_k=1, falloff=0.85)) == ["c1", "c4"]


def test_the_scale_is_relative_so_close_chinese_scores_still_separate() -> None:
    candidates = [_hit(1, 0.852), _hit(2, 0.851), _hit(3, 0.842), _hit(4, 0.841), _hit(5, 0.840)]
    assert _ids(close_to_best(candidates, candidates, min_k=1, falloff=0.5)) == ["c1", "c2"]


def test_a_bm25_only_hit_counts_as_the_worst_and_off_or_bm25_keeps_all() -> None:
    candidates = [_hit(1, 0.9), _hit(2, None), _hit(3, 0.8), _hit(4, 0.2)]
    assert _ids(close_to_best(candidates, candidates, min_k=1, falloff=0.5)) == ["c1", "c3"]
    assert close_to_best(candidates, candidates, min_k=1, falloff=0.0) == candidates  # off by default
    lexical = [_hit(1, None), _hit(2, None), _hit(3, None)]
    assert close_to_best(lexical, lexical, min_k=1, falloff=0.5) == lexical
    assert close_to_best(candidates[:2], candidates, min_k=3, falloff=0.9) == candidates[:2]
