"""The simulator check's fit/evaluation split: exactly half, stratified by label."""

from __future__ import annotations

import pandas as pd
import pytest

from saliency_repro.crowd.validation import split_samples


def samples(per_label: list[int]) -> pd.DataFrame:
    rows = [{"sample_id": f"l{lab}_{i}", "label": lab}
            for lab, n in enumerate(per_label) for i in range(n)]
    return pd.DataFrame(rows)


@pytest.mark.parametrize("per_label", [[25, 25, 25, 25], [50, 50], [13, 12, 7], [1, 1, 1]])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_is_exactly_half_and_stratified(per_label, seed):
    # AG News in the release: 4 labels x 25 samples; rounding each label gave 12 x 4 = 48 / 52
    s = samples(per_label)
    fit, ev = split_samples(s, 0.5, seed)
    n = sum(per_label)
    assert len(fit) == int(n / 2 + 0.5) and not fit & ev and fit | ev == set(s["sample_id"])
    for lab, size in enumerate(per_label):
        in_fit = sum(sid.startswith(f"l{lab}_") for sid in fit)
        assert size // 2 <= in_fit <= size // 2 + 1  # floor of the share, or one more


def test_split_is_seeded():
    s = samples([25, 25, 25, 25])
    assert split_samples(s, 0.5, 3) == split_samples(s, 0.5, 3)
    assert split_samples(s, 0.5, 3) != split_samples(s, 0.5, 4)
