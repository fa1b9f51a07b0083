"""Build on tabular graphs: the ai.onnx.ml ops and string inputs run on the compact engine, and a
graph with an operator onnxruntime-web has no kernel for is refused in one line."""

from __future__ import annotations

import onnx
from onnx import TensorProto, helper

from staticml import compact, manifest as manifest_io
from staticml.tasks.tabular import features as tabular, rows as tabular_page
from staticml.cli import main
from tabular_probe import FEATURES, make_model_folder


def test_the_compact_engine_runs_the_ml_ops_and_string_inputs(tmp_path):
    folder = make_model_folder(tmp_path / "model")
    assert compact.unsupported(folder / "model.onnx") == []
    assert compact.onnxruntime_web_missing(folder / "model.onnx") == []


def custom_op_folder(folder):
    """A contract-shaped graph whose classifier is an operator of a custom domain."""
    inputs = [helper.make_tensor_value_info(f["name"], TensorProto.STRING if f["type"] == "category" else TensorProto.FLOAT,
                                            [None, 1]) for f in FEATURES]
    output = helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])
    node = helper.make_node("Score", [f["name"] for f in FEATURES], ["probabilities"], domain="example.custom")
    graph = helper.make_graph([node], "custom", inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("example.custom", 1)])
    folder.mkdir()
    onnx.save(model, folder / "model.onnx")
    manifest_io.write_model_folder(folder, name="custom", task="tabular-classification", labels=["bad", "good"],
                                   features=FEATURES, variants={"fp32": "model.onnx"}, default_variant="fp32",
                                   metrics={}, arch="custom")
    return folder


def test_build_refuses_an_operator_the_page_cannot_run(tmp_path, capsys):
    folder = custom_op_folder(tmp_path / "custom")
    capsys.readouterr()
    code = main(["build", str(folder), "--out", str(tmp_path / "site")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert "example.custom.Score" in err[0] and "onnxruntime-web" in err[0] and "model.onnx" in err[0]
    assert not (tmp_path / "site").exists()


def test_a_built_site_never_publishes_the_test_rows(tmp_path):
    """The applicants' records beside a trained model stay out of the site (verify draws rows from the features)."""
    folder = make_model_folder(tmp_path / "model")
    assert (folder / "test_rows.json").is_file()
    assert main(["build", str(folder), "--out", str(tmp_path / "site")]) == 0
    assert not list((tmp_path / "site").rglob("test_rows.json*"))
    site_model = tmp_path / "site" / "models" / manifest_io.read(folder)["name"]
    assert tabular_page.test_rows(site_model, manifest_io.read(site_model)) == []
    rows = tabular_page.sampled_rows(FEATURES, 50)
    assert len(rows) == 50 and tabular.row_problem(FEATURES, rows) is None
