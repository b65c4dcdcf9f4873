"""The embedded demo corpora, generated deterministically from a seed.

Classification ("sentiment": 2 classes, "topic": 4 classes): documents of varied length built
from an English filler vocabulary, with planted cue words of the true class (the ground-truth
rationale) and a smaller number of distractor cues of another class. The true class always has
strictly more cues than any other class, so the label is a function of the text, but showing
more words can expose distractors and mislead a reader: the mechanism behind the paper's Flips.

Summarization: articles of filler words in which a few "key" words from a separate salient
vocabulary are planted; the reference summary is the key words in order of appearance. It is
a learnable function of marked input content, and the source position of every summary word
is known, so saliency maps can be checked against it.

Nothing here is real data and no number computed on it is a paper number.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

FILLER = """
the a an and or but of to in on at for with from by about as into over after before under
between through during without within along across behind beyond near this that these those
it its they them their there here then than when while where which who whom whose what how
was were is are be been being has have had do does did will would can could should may might
must shall one two three four five six first second last next other another some any each
every many much more most few less least several such same own only also just even still yet
again ever never often always sometimes usually already soon later now today yesterday
tomorrow year years month week day days time times night morning evening people person man
woman men women child children family friend group team city town country world house home
place area road street room door window table book paper story part side end point way thing
things fact case number system report question answer idea reason result change form kind
line name word words list set order course level state view light water air food money car
train plane ship bus office school class market company program project plan study work job
hand head face eye eyes voice body life mind heart letter phone photo picture film scene
actor music song sound color size shape weight height length speed power energy
said says told asked called made make made went go goes came come took take gave give found
find knew know thought think looked look seemed seem felt feel left leave kept keep began
begin turned turn moved move showed show heard hear started start stopped stop opened open
closed close walked walk talked talk wrote write read sat stood ran held brought bought
met paid sent built spent lost won set put became become meant mean
new old long short high low large small big little early late young full empty open easy
hard clear certain common general local main major minor public private real simple single
special whole recent final former past present free available possible likely similar
""".split()
FILLER = list(dict.fromkeys(FILLER))  # unique, order kept (the order sets the Zipf weights)

CUES = {
    "sentiment": {
        "negative": "awful terrible boring dreadful horrible worst waste dull mediocre poorly "
                    "disappointing pointless annoying bland clumsy tedious painful lame stupid "
                    "forgettable".split(),
        "positive": "wonderful brilliant superb delightful excellent masterpiece charming moving "
                    "enjoyable gorgeous stunning touching hilarious remarkable beautiful "
                    "fantastic gripping clever perfect memorable".split(),
    },
    "topic": {
        "world": "government minister election parliament embassy troops refugees diplomat "
                 "treaty president ceasefire protest border military sanctions".split(),
        "sports": "match championship coach goal tournament league striker season playoff "
                  "quarterback medal olympic stadium referee victory".split(),
        "business": "shares profit revenue investors stocks earnings merger quarterly economy "
                    "inflation retailer bank dividend acquisition shareholders".split(),
        "science": "software researchers internet computer scientists nasa genome processor "
                   "wireless spacecraft laboratory microsoft physics telescope virus".split(),
    },
}

SALIENT = """
alice bob carol david emma frank grace henry irene jack karen louis maria nora oscar paula
quentin rosa simon tina victor wendy xavier yara zoe paris london tokyo berlin madrid rome
cairo lima oslo vienna dublin prague athens delhi seoul boston denver dallas miami chicago
apple banana cherry lemon mango orange peach pear plum grape tiger lion eagle shark wolf
""".split()

SPLITS = ("train", "validation", "test")


def _rng(seed: int, generator: str, split: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(generator.encode()), zlib.crc32(split.encode())])


def _filler_weights() -> np.ndarray:
    ranks = np.arange(1, len(FILLER) + 1)
    weights = 1.0 / ranks**0.8
    return weights / weights.sum()


def label_names(generator: str) -> list[str]:
    return list(CUES[generator])


def classification_split(
    generator: str, n: int, seed: int, split: str, min_words: int = 25, max_words: int = 90,
    cues_per_doc: tuple[int, int] = (2, 6), distractors_per_doc: tuple[int, int] = (0, 3),
) -> pd.DataFrame:
    """One split of a synthetic classification corpus with rationale positions."""
    if generator not in CUES:
        raise ValueError(f"unknown classification generator {generator!r}")
    rng = _rng(seed, generator, split)
    classes = list(CUES[generator])
    weights = _filler_weights()
    labels = np.arange(n) % len(classes)
    rng.shuffle(labels)
    rows = []
    for i, label in enumerate(labels):
        length = int(rng.integers(min_words, max_words + 1))
        n_cues = int(rng.integers(cues_per_doc[0], cues_per_doc[1] + 1))
        n_cues = max(1, min(n_cues, length // 2))
        n_dis = int(rng.integers(distractors_per_doc[0], distractors_per_doc[1] + 1))
        n_dis = max(0, min(n_dis, n_cues - 1, length - n_cues))
        words = list(rng.choice(FILLER, size=length, p=weights))
        positions = rng.choice(length, size=n_cues + n_dis, replace=False)
        cue_pos = sorted(int(p) for p in positions[:n_cues])
        dis_pos = sorted(int(p) for p in positions[n_cues:])
        true_cues = CUES[generator][classes[label]]
        for p in cue_pos:
            words[p] = str(rng.choice(true_cues))
        others = [c for j, c in enumerate(classes) if j != label]
        dis_class = str(rng.choice(others))  # one other class, so it never outvotes the truth
        for p in dis_pos:
            words[p] = str(rng.choice(CUES[generator][dis_class]))
        rows.append({
            "id": f"{generator}-{split}-{i:05d}", "text": " ".join(words), "label": int(label),
            "rationale": cue_pos, "distractors": dis_pos,
        })
    return pd.DataFrame(rows)


def summarization_split(
    n: int, seed: int, split: str, min_words: int = 20, max_words: int = 50,
    summary_words: tuple[int, int] = (3, 6),
) -> pd.DataFrame:
    """One split of the synthetic summarization corpus with source positions."""
    rng = _rng(seed, "summarization", split)
    weights = _filler_weights()
    rows = []
    for i in range(n):
        length = int(rng.integers(min_words, max_words + 1))
        n_keys = int(rng.integers(summary_words[0], summary_words[1] + 1))
        n_keys = max(1, min(n_keys, length // 3))
        words = list(rng.choice(FILLER, size=length, p=weights))
        positions = sorted(int(p) for p in rng.choice(length, size=n_keys, replace=False))
        keys = rng.choice(SALIENT, size=n_keys, replace=False)
        for p, key in zip(positions, keys, strict=True):
            words[p] = str(key)
        rows.append({
            "id": f"summarization-{split}-{i:05d}", "article": " ".join(words),
            "summary": " ".join(str(k) for k in keys),
            "source_positions": [[p] for p in positions],
        })
    return pd.DataFrame(rows)


def generate(source: dict, seed: int) -> dict[str, pd.DataFrame]:
    """All splits of the corpus a ``synthetic`` source config describes."""
    sizes = {"train": source["n_train"], "validation": source["n_validation"], "test": source["n_test"]}
    out = {}
    for split, n in sizes.items():
        if n == 0:
            continue
        if source["generator"] == "summarization":
            out[split] = summarization_split(
                n, seed, split, source["min_words"], source["max_words"], tuple(source["summary_words"]),
            )
        else:
            out[split] = classification_split(
                source["generator"], n, seed, split, source["min_words"], source["max_words"],
                tuple(source["cues_per_doc"]), tuple(source["distractors_per_doc"]),
            )
    return out
