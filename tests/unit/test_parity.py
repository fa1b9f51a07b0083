"""The one parity check that export, build, verify and the tests share."""

from __future__ import annotations

import numpy as np
import pytest

from staticml import parity


def test_equal_outputs_pass_and_report_zero():
    probabilities = np.array([[0.2, 0.8], [0.6, 0.4]])
    report = parity.require("same", probabilities, probabilities.copy(), 1e-4)
    assert report.max_abs_diff == 0 and report.label_agreement == 1.0 and report.ok


def test_difference_beyond_tolerance_names_the_worst_text():
    reference = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    candidate = reference + np.array([[0, 0], [3e-3, -3e-3], [0, 0]])
    with pytest.raises(parity.ParityError, match=r"max \|Δp\| 3.00e-03.*worst text: 'second'"):
        parity.require("page vs Python", reference, candidate, 1e-3, texts=["first", "second", "third"])


def test_a_flipped_clear_label_is_a_disagreement():
    reference, candidate = np.array([[0.3, 0.7], [0.9, 0.1]]), np.array([[0.7, 0.3], [0.9, 0.1]])
    report = parity.compare(reference, candidate, tolerance=1e-3)
    assert report.label_agreement == 0.5 and not report.ok


def test_a_near_tie_may_fall_either_way():
    reference, candidate = np.array([[0.5, 0.5]]), np.array([[0.5 - 1e-8, 0.5 + 1e-8]])
    assert parity.compare(reference, candidate, 1e-4).ok


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError):
        parity.compare(np.zeros((2, 2)), np.zeros((3, 2)), 1e-4)
