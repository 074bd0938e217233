"""The character language model: how likely each next character of a register line is, given the ones before.

An n-gram model with Witten-Bell interpolation (each order backs off to the shorter history in proportion to
how many different characters that history was seen followed by). It reads text folded the way handwriting
varies without changing what is written: lower case, every digit as "0" (a model of which digits follow
which would only learn the training pages' dates). The recogniser's beam search weighs its readings by it
(`inference/language_prior.py`), which turns "Thànth Mộu" back into a place name the frames also allow.

The artifact is a folder like every model's: `model.json` (format `hotich.language.ngram/1`: order,
corpus, the fusion weights chosen on validation lines, figures) and `counts.json.gz`, the n-gram counts.
Torch-free.
"""

from __future__ import annotations

import gzip
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hotich.models.card import CARD_FILE, file_entry, load_card, sha256_file, write_card_file
from hotich.text import CHARSET

__all__ = ["COUNTS_FILE", "END", "LANGUAGE_FORMAT", "START", "CharLanguageModel", "fold"]

LANGUAGE_FORMAT = "hotich.language.ngram/1"
COUNTS_FILE = "counts.json.gz"
START = "\x02"
"""Pads the history before a line's first character."""
END = "\n"
"""The character a line ends with."""
_VOCABULARY = len({c.lower() for c in CHARSET if not c.isdigit()}) + 2  # "0" and END
"""How many characters the model can predict: the base distribution is uniform over them."""
_CACHED = 2_000_000
"""Probabilities kept once computed; a long-running server starts over beyond this."""


def fold(char: str) -> str:
    """A character as the model reads it: lower case, any digit "0"."""
    return "0" if char.isdigit() else char.lower()


class CharLanguageModel:
    """P(next character | the `order` - 1 characters before it), Witten-Bell interpolated down to uniform."""

    def __init__(self, order: int, counts: dict[str, dict[str, int]]) -> None:
        if order < 1:
            raise ValueError(f"an n-gram order is at least 1, not {order}")
        self.order = order
        self.counts = counts
        # Per history: how often it was seen, and after how many different characters.
        self._totals = {history: (sum(following.values()), len(following)) for history, following in counts.items()}
        self._probabilities: dict[tuple[str, str], float] = {}

    @classmethod
    def fit(cls, texts: Iterable[str], order: int = 6) -> CharLanguageModel:
        """Count every n-gram up to `order` over `texts` (one line each), folded."""
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for text in texts:
            line = START * (order - 1) + "".join(fold(c) for c in text) + END
            for i in range(order - 1, len(line)):
                for k in range(order):
                    counts[line[i - k : i]][line[i]] += 1
        return cls(order, {history: dict(following) for history, following in counts.items()})

    @property
    def start(self) -> str:
        """The history before a line's first character."""
        return START * (self.order - 1)

    def probability(self, history: str, char: str) -> float:
        """P(`char` | the last `order` - 1 characters of `history`), both already folded."""
        history = history[-(self.order - 1) :] if self.order > 1 else ""
        key = (history, char)
        if key not in self._probabilities:
            if len(self._probabilities) > _CACHED:
                self._probabilities.clear()
            lower = self.probability(history[1:], char) if history else 1.0 / _VOCABULARY
            seen = self._totals.get(history)
            if seen is None:
                self._probabilities[key] = lower
            else:
                total, kinds = seen
                self._probabilities[key] = (self.counts[history].get(char, 0) + kinds * lower) / (total + kinds)
        return self._probabilities[key]

    def log_probability(self, text: str) -> float:
        """The natural log-probability of a whole line (its end included)."""
        history, total = self.start, 0.0
        for char in [fold(c) for c in text] + [END]:
            total += math.log(self.probability(history, char))
            history = (history + char)[1:] if self.order > 1 else ""
        return total

    def save(self, model_dir: Path, **sections: Any) -> Path:
        """Write the counts and a card with `sections` (corpus, fusion, metrics) into `model_dir`."""
        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        path = model_dir / COUNTS_FILE
        # mtime 0: the same counts give the same bytes, so a card's checksum only changes with the model.
        with gzip.GzipFile(path, "wb", mtime=0) as f:
            f.write(json.dumps(self.counts, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode())
        card = {"format": LANGUAGE_FORMAT, "name": f"char-{self.order}gram", "order": self.order,
                "smoothing": "Witten-Bell interpolation to uniform", "folding": "lower case, digits as 0",
                "histories": len(self.counts), **sections, "files": {"counts": file_entry(path)}}
        return write_card_file(model_dir, card)

    @classmethod
    def load(cls, model_dir: Path) -> tuple[CharLanguageModel, dict[str, Any]]:
        """The model in `model_dir` and its card; the counts must match the card's checksum."""
        card = load_card(model_dir, LANGUAGE_FORMAT)
        path = Path(model_dir) / card["files"]["counts"]["file"]
        if sha256_file(path) != card["files"]["counts"]["sha256"]:
            raise ValueError(f"{path} does not match the checksum in {Path(model_dir) / CARD_FILE}: the folder "
                             f"holds a half-copied or edited model; copy it again or run `hotich train language`")
        with gzip.open(path, "rt", encoding="utf-8") as f:
            counts = json.load(f)
        return cls(int(card["order"]), counts), card
