"""Issue 25, item 6: the help is complete: `staticml` alone prints it and exits 0, every argument of
every command says what it is, each command's help ends with examples that parse, `import --help`
names every format it takes, `bench --quick` says what it does."""

from __future__ import annotations

import argparse
import shlex

import pytest
from cli_tools import run_output

from staticml.cli import parser


def commands() -> dict[str, argparse.ArgumentParser]:
    top = parser()
    (sub,) = [a for a in top._actions if isinstance(a.choices, dict)]  # the add_subparsers() action
    return dict(sub.choices)


def test_staticml_alone_prints_the_help_and_exits_0(capsys):
    code, out, err = run_output(capsys)
    assert code == 0 and err == []
    assert out.startswith("usage: staticml")
    assert all(name in out for name in commands())


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_argument_of_every_command_has_a_help_line(name):
    silent = [a.option_strings[0] if a.option_strings else a.dest for a in commands()[name]._actions
              if not (a.help or "").strip() or a.help == argparse.SUPPRESS]
    assert silent == [], f"staticml {name}: no help for {', '.join(silent)}"


@pytest.mark.parametrize("name", sorted(commands()))
def test_every_commands_help_ends_with_examples_that_parse(name, capsys):
    code, out, _ = run_output(capsys, name, "--help")
    assert code == 0
    ending = out.rstrip().split("\nexamples:\n")
    assert len(ending) == 2, f"staticml {name} --help does not end with examples"
    examples = [line.strip() for line in ending[1].splitlines()]
    assert examples and all(line.startswith(f"staticml {name}") for line in examples), examples
    for line in examples:
        words = shlex.split(line.split("#")[0].split(">")[0])
        assert words[0] == "staticml"
        parser().parse_args(words[1:])  # a usage error would exit 2 here


def test_import_help_names_every_format_it_takes(capsys):
    code, out, _ = run_output(capsys, "import", "--help")
    assert code == 0
    said = " ".join(out.split())
    for form in ("Hugging Face folder", "ONNX", ".keras", ".h5", ".skops", ".tflite"):
        assert form in said, f"import --help does not name {form}"


def test_bench_quick_says_what_it_leaves_out(capsys):
    code, out, _ = run_output(capsys, "bench", "--help")
    assert code == 0
    quick = " ".join(out.split("\n  --quick", 1)[1].split("\n  --port", 1)[0].split())
    assert "two network profiles" in quick and "40 browser predictions instead of 200" in quick


def test_the_help_never_breaks_the_one_line_rule_for_a_usage_error(capsys):
    code, out, err = run_output(capsys, "bild")
    assert code == 2 and out == "" and len(err) == 1 and "invalid choice: 'bild'" in err[0]
