"""Counterfactual training sentences, labelled by rule (in the manner of Kaushik et al. 2020, made
automatically): the tweet corpus rarely says "not bad" or "X, but Y", so a bag of words learns
that "bad" is negative whatever comes before it.

- Negation: a positive or negative training text whose first sentiment word agrees with its label
  gets that word negated ("is good" → "is not good", "love" → "don't love"), or a negated word of
  the other polarity un-negated (negative "not happy" → positive "happy"); the label flips
  between positive and negative.
- Contrast: two short training texts of opposite polarity joined as "A but B" or "although A, B":
  the label is B's (the clause that carries the verdict).

Neutral texts are never rewritten. Only positive/negative labels are flipped: data without both
gets no counterfactuals. The rules were written before any measurement and are not tuned on the
probe set (src/staticml/data/probe_sentences.jsonl), which is only ever measured.
"""

from __future__ import annotations

import re

import numpy as np

POSITIVE_WORDS = ("good", "great", "happy", "love", "loved", "amazing", "awesome", "nice", "fun", "excited", "cool",
                  "best", "beautiful", "perfect", "glad", "lovely", "wonderful", "fantastic", "like", "enjoy",
                  "enjoyed", "excellent", "funny", "sweet", "brilliant", "better")
NEGATIVE_WORDS = ("bad", "sad", "sick", "terrible", "awful", "horrible", "worst", "boring", "annoying", "tired",
                  "hate", "hated", "sucks", "upset", "angry", "ugly", "disappointed", "disappointing", "worse",
                  "miserable", "broken", "stupid", "poor", "wrong", "hurt")
VERBS = {"love", "loved", "like", "enjoy", "enjoyed", "hate", "hated", "sucks", "hurt"}
NEGATIONS = r"(?:not|never|isn't|wasn't|aren't|don't|didn't|doesn't|can't|won't|no longer)"
COPULAS = r"(?:is|was|are|were|am|'m|'s|'re|be|so|feel|feels|felt|looks|seems)"
CONTRAST_MAX_WORDS = 12


def _word_pattern(words: tuple[str, ...]) -> str:
    return r"\b(" + "|".join(sorted(words, key=len, reverse=True)) + r")\b"


def negated(text: str, polarity: str) -> str | None:
    """`text` with its first word of `polarity` ("positive"/"negative") negated or un-negated;
    None when no rule applies."""
    words = _word_pattern(POSITIVE_WORDS if polarity == "positive" else NEGATIVE_WORDS)
    opposite = _word_pattern(NEGATIVE_WORDS if polarity == "positive" else POSITIVE_WORDS)
    lowered = text.lower()
    undo = re.search(r"\b" + NEGATIONS + r"\s+(?:(?:very|really|so|that|too)\s+)?" + opposite, lowered)
    first = re.search(words, lowered)
    if undo and (first is None or undo.start() < first.start()):  # negative "not happy" → positive "happy"
        return text[:undo.start()] + text[undo.start(1):]
    if first is None:
        return None
    copula = re.search(r"\b" + COPULAS + r"\s+(?:(?:very|really|so|too)\s+)?" + words, lowered)
    if copula and copula.start(1) == first.start(1):  # "is good" → "is not good"
        at = copula.start() + len(copula.group(0).split()[0])
        return text[:at] + " not" + text[at:]
    if first.group(1) in VERBS:  # "I love it" → "I don't love it"
        verb = {"loved": "love", "enjoyed": "enjoy", "hated": "hate", "sucks": "suck"}.get(first.group(1), first.group(1))
        tense = "didn't" if first.group(1).endswith("ed") else "doesn't" if first.group(1) == "sucks" else "don't"
        return text[:first.start()] + f"{tense} {verb}" + text[first.end():]
    return None


def counterfactuals(texts: list[str], labels: list[int], label_names: list[str], seed: int,
                    contrast_pairs: int = 3000) -> tuple[list[str], list[int]]:
    """Negated and contrasted variants of the training texts with their rule labels (see the module
    docstring); empty unless the labels include both "positive" and "negative"."""
    if not {"positive", "negative"} <= set(label_names):
        return [], []
    positive, negative = label_names.index("positive"), label_names.index("negative")
    flip = {positive: negative, negative: positive}
    out_texts, out_labels = [], []
    for text, label in zip(texts, labels):
        if label in flip:
            variant = negated(text, label_names[label])
            if variant and variant != text:
                out_texts.append(variant)
                out_labels.append(flip[label])
    rng = np.random.default_rng(seed)
    short = {y: [t for t, label in zip(texts, labels) if label == y and len(t.split()) <= CONTRAST_MAX_WORDS]
             for y in flip}
    if short[positive] and short[negative]:
        for i in range(contrast_pairs):
            last = positive if i % 2 else negative
            first = str(rng.choice(short[flip[last]])).rstrip(" .!")
            verdict = str(rng.choice(short[last]))
            joined = f"{first}, but {verdict}" if rng.random() < 0.7 else f"Although {first}, {verdict}"
            out_texts.append(joined)
            out_labels.append(last)
    return out_texts, out_labels
