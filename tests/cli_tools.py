"""Running the CLI in-process and holding a refusal to the rule: exit 2, one line naming the
problem, no traceback, nothing left behind."""

from __future__ import annotations

from staticml.cli import main


def run_output(capsys, *argv) -> tuple[int, str, list[str]]:
    """`staticml ARGV` in-process: its exit code, its stdout, and its stderr lines."""
    capsys.readouterr()  # forget what making the input printed
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def run(capsys, *argv) -> tuple[int, list[str]]:
    code, _, err = run_output(capsys, *argv)
    return code, err


def run_text(capsys, *argv) -> tuple[int, str]:
    """As `run`, stderr as it was written: one string, each line ending in a newline."""
    code, err = run(capsys, *argv)
    return code, "".join(line + "\n" for line in err)


def assert_one_line_refusal(code: int, err: list[str], says: str) -> None:
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("staticml") and "Traceback" not in err[0], err
    assert says in err[0], err[0]


def assert_import_refused(capsys, out, *args, says: str, after_progress: bool = False) -> None:
    """`staticml import ARGS --out OUT` refused: exit 2, one error line (after progress lines, where
    the import prints some before it finds the problem) saying `says`, nothing left behind."""
    code, err = run(capsys, "import", *args, "--out", out)
    assert code == 2, err
    errors = [line for line in err if line.startswith("staticml: error:")]
    assert errors == (err[-1:] if after_progress else err) and len(errors) == 1 and "Traceback" not in str(err), err
    assert says in errors[0], errors[0]
    assert_nothing_left(out)


def assert_nothing_left(out) -> None:
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []
