"""Architectures are data: every spec is complete and used, and each trained one trains."""

from __future__ import annotations

import dataclasses

import pytest
from test_cli import small_csv

from staticml import archs, manifest
from staticml.train import data, export
from staticml.train.text import TrainConfig, resolved, train

CONFIG_FIELDS = {f.name for f in dataclasses.fields(TrainConfig)}


@pytest.mark.parametrize("name", list(archs.ARCHS))
def test_every_spec_names_a_quantizer_and_known_training_fields(name):
    arch = archs.get(name)
    assert arch.quantizer in export.QUANTIZERS
    assert 0 < arch.export_tolerance <= 1e-4
    assert set(arch.defaults) | set(arch.finetune_defaults) <= CONFIG_FIELDS
    assert (arch.build is not None) == (arch.source == archs.TRAINED)


def test_importer_supports_exactly_the_imported_specs():
    from staticml.train import importer

    assert set(importer.SUPPORTED_TYPES) == set(archs.names(archs.IMPORTED)) == {"bert", "distilbert", "roberta"}


def test_an_unknown_arch_is_one_clear_error():
    with pytest.raises(archs.UserError, match="'cnn' is not supported"):
        resolved(TrainConfig(arch="cnn"))


def test_tiny_trains_with_a_decaying_learning_rate(tmp_path):
    """Two optimizers stepped as one (SparseAdam + AdamW) each get their schedule."""
    dataset = data.load(small_csv(tmp_path), "review", "stars")
    config = TrainConfig(arch="tiny", lr_decay=True, epochs=1, name="decay")
    written = train(dataset, tmp_path / "decay", config, lambda line: None)
    assert manifest.read(tmp_path / "decay")["name"] == written["name"] == "decay"
