"""A classifier's answers on one part of the data: which it got wrong, and how sure it was.

The Evaluate dialog's galleries show a folder's test images the model got wrong, the most
confident mistakes first (a model 99 % sure of a wrong class has learned something wrong,
or the image is labelled wrong; one 40 % sure was torn between two classes), and the images
behind one cell of the confusion matrix. Both are orderings of the same numbers, made here
without Qt from the model's outputs (`session.predict_split`) and the part's labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .history_views import labels_of

__all__ = ["Answers", "class_probabilities"]


def class_probabilities(outputs: np.ndarray, from_logits: bool = False) -> np.ndarray:
    """The model's outputs as one probability per class and sample, shape (n, k).

    A single output is P(class 1) (after a sigmoid when the loss says it is a logit) and
    becomes [1 - p, p]. Several outputs are taken as they are when they already are
    probabilities (softmax), else put through a softmax, as `describe_prediction` does.
    """
    out = np.asarray(outputs, dtype=np.float64).reshape(len(outputs), -1)
    if out.shape[1] == 1:
        p = out[:, 0]
        if from_logits:
            p = 1.0 / (1.0 + np.exp(-np.clip(p, -60.0, 60.0)))
        p = np.clip(p, 0.0, 1.0)
        return np.column_stack([1.0 - p, p])
    if len(out) == 0:
        return out
    sums = out.sum(axis=1)
    already = bool(np.all(out >= -1e-6) and np.all(np.abs(sums - 1.0) < 1e-3))
    if from_logits or not already:
        shifted = np.exp(out - out.max(axis=1, keepdims=True))
        return shifted / shifted.sum(axis=1, keepdims=True)
    return out


@dataclass(frozen=True, eq=False)
class Answers:
    """What the model said about each sample of a part, in the part's order.

    Attributes:
        truth: each sample's true class (int64).
        guess: the class the model gave (int64).
        confidence: the probability the model gave its guess, from 1/k to 1.
    """

    truth: np.ndarray
    guess: np.ndarray
    confidence: np.ndarray

    @classmethod
    def from_outputs(cls, outputs: np.ndarray, labels: np.ndarray,
                     from_logits: bool = False) -> Answers:
        """The answers from the model's outputs and the part's labels (integers, 0/1 or
        one-hot rows).

        Raises:
            ValueError: when there are not as many outputs as labels.
        """
        truth = labels_of(np.asarray(labels))
        if len(outputs) != len(truth):
            raise ValueError(f"outputs: expected one per label ({len(truth)}), got "
                             f"{len(outputs)}; evaluate again after the data loaded")
        probs = class_probabilities(outputs, from_logits)
        guess = probs.argmax(axis=1).astype(np.int64) if len(probs) else \
            np.zeros(0, np.int64)
        confidence = probs[np.arange(len(probs)), guess] if len(probs) else np.zeros(0)
        return cls(truth.astype(np.int64), guess, np.asarray(confidence, np.float64))

    def __len__(self) -> int:
        return len(self.truth)

    def _most_sure_first(self, rows: np.ndarray) -> np.ndarray:
        # a stable sort on the negated confidence: ties keep the part's order
        return rows[np.argsort(-self.confidence[rows], kind="stable")]

    def wrong(self) -> np.ndarray:
        """The samples the model got wrong, the most confident mistakes first."""
        return self._most_sure_first(np.flatnonzero(self.truth != self.guess))

    def cell(self, true_class: int, predicted_class: int) -> np.ndarray:
        """The samples of `true_class` that the model called `predicted_class` (one cell
        of the confusion matrix), the most confident first."""
        rows = np.flatnonzero((self.truth == true_class) & (self.guess == predicted_class))
        return self._most_sure_first(rows)
