"""Running the CLI in-process and holding a refusal to the rule: exit 2, one line naming the
problem, no traceback, nothing left behind."""

from __future__ import annotations

from staticml.cli import main


def run(capsys, *argv) -> tuple[int, list[str]]:
    capsys.readouterr()  # forget what making the input printed
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().err.strip().splitlines()


def assert_one_line_refusal(code: int, err: list[str], says: str) -> None:
    assert code == 2, err
    assert len(err) == 1 and err[0].startswith("staticml") and "Traceback" not in err[0], err
    assert says in err[0], err[0]


def assert_nothing_left(out) -> None:
    assert not out.exists()
    assert [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")] == []
