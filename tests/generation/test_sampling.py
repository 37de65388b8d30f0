import pytest

from ragqa.errors import InputError
from ragqa.generation.sampling import SamplingParams, sampling_params


def test_defaults_are_low_temperature() -> None:
    params = sampling_params()
    assert params.temperature == 0.1 and params.seed is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temperature", 2.5),
        ("temperature", -0.1),
        ("top_p", 0.0),
        ("top_p", 1.5),
        ("max_tokens", 0),
        ("top_k", -1),
        ("repetition_penalty", 0),
        ("presence_penalty", 3),
        ("stop", ("",)),
    ],
)
def test_out_of_range_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(InputError, match=field):
        sampling_params(**{field: value})


def test_openai_body_carries_vllm_and_llamacpp_fields() -> None:
    body = SamplingParams(
        temperature=0.2, top_k=20, seed=7, stop=("END",), repetition_penalty=1.2
    ).openai_body()
    assert body["top_k"] == 20 and body["seed"] == 7 and body["stop"] == ["END"]
    assert body["repetition_penalty"] == body["repeat_penalty"] == 1.2
    assert "top_k" not in SamplingParams(top_k=0).openai_body()
