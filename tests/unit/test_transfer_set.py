"""Issue 28 item 1: the teacher-labelled transfer set (scripts/transfer_set.py) holds counterfactual
variants and augmented copies of training texts, one a line, and nothing from a held-out split."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from staticml.train import data

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "transfer_set.py"


def test_spans_are_runs_of_one_to_five_consecutive_words_of_each_text():
    import importlib.util

    import numpy as np

    spec = importlib.util.spec_from_file_location("transfer_set", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    texts = ["not bad at all , I would go again", "one", "so so"]
    spans = module.spans(texts, 20, np.random.default_rng(0))
    assert len(spans) == 40  # a one-word text gives none
    for span in spans[:20]:
        assert 1 <= len(span.split()) <= 5 and span in texts[0]
    assert {len(s.split()) for s in spans[:20]} == {1, 2, 3, 4, 5}
    assert set(spans[20:]) == {"so"}


@pytest.mark.slow  # reads and splits the corpus twice, in a child process too: ~15 s quiet, 35 s on a busy machine
def test_the_transfer_set_holds_negations_and_contrasts_and_no_held_out_text(tmp_path):
    out = tmp_path / "transfer.txt"
    done = subprocess.run([sys.executable, str(SCRIPT), "--augmented", "300", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    texts = out.read_text(encoding="utf-8").splitlines()
    assert all(t and t == t.strip() for t in texts) and len(set(texts)) == len(texts)
    three = data.split(data.load_default())
    binary = data.split(data.load_default(keep_labels=["negative", "positive"]))
    held = set(three.validation[0] + three.test[0] + binary.validation[0] + binary.test[0])
    assert not held & set(texts)
    contrasts = [t for t in texts if ", but " in t or t.startswith("Although ")]
    negations = [t for t in texts if " not " in t or "n't " in t]
    assert len(contrasts) >= 2500 and len(negations) >= 1000
    assert len(texts) >= len(contrasts) + 300 - 50  # the augmented copies are there too (a few may equal a variant)
