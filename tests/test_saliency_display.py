"""The display format, round-tripped on the released data (the top-k rule itself is tested in
test_attribution.py)."""

from pathlib import Path

import pandas as pd
import pytest
from conftest import shared_data_dir

from saliency_repro.saliency.display import (
    displays_for_sample,
    parse_display,
    release_units,
    render_display,
)


def test_render_and_parse():
    words = ["sister", "of", "man", "who", "died"]
    assert render_display(words, {0, 2}) == "sister .man .."
    assert render_display(words, range(5)) == "sister of man who died "
    parsed, shown = parse_display("sister .man ..")
    assert parsed == ["sister", None, "man", None, None]
    assert shown == [0, 2]


def test_render_rejects_ambiguous_words():
    with pytest.raises(ValueError):
        render_display(["a.b"], [0])


def test_displays_for_sample_shows_min_k_n():
    out = displays_for_sample(["a", "b", "c"], [0.1, 0.3, 0.2], [1, 2, 5])
    assert out == [(1, ".b .", [1]), (2, ".b c ", [1, 2]), (5, "a b c ", [0, 1, 2])]


def _release_dir() -> Path:
    return shared_data_dir() / "lu2024-crowd-release"


@pytest.mark.shared_data
@pytest.mark.parametrize("name", ["IMDB.csv", "AGNEWS.csv"])
def test_display_format_round_trips_on_released_rows(name):
    path = _release_dir() / name
    if not path.exists():
        pytest.skip(f"released crowd data not available at {path}")
    df = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False, quoting=3)
    starts = df.index[df["Saliency"] == "N/A"].tolist()
    assert len(starts) == 100
    checked = 0
    for s in starts:
        units = release_units(df.at[s, "Text"].split(" "))
        block = df.iloc[s + 1: s + 41]
        assert len(block) == 40 and (block["Saliency"] != "N/A").all()
        for text, k in zip(block["Text"], block["Words"].astype(int), strict=True):
            parsed, shown = parse_display(text)
            assert len(parsed) == len(units)
            assert len(shown) == min(k, len(units))
            assert all(parsed[i] == units[i] for i in shown)
            assert render_display(units, shown) == text
            checked += 1
    assert checked == 4000
