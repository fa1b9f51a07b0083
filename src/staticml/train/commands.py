"""The training side of the command line: what `staticml train` and `staticml demo` run for each
task (the task registry names these functions: staticml.tasks, each task's `train` and `demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Callable

from ..errors import UserError

Report = Callable[[str], None]

DEMO_EXAMPLES = [
    "I love this, it made my day!",
    "This is the worst service I have ever had.",
    "Driverless cars will make the roads so much safer.",
    "I would never trust a self-driving car with my kids.",
]


def train_text(args: argparse.Namespace, report: Report) -> None:
    """`staticml train DATA --text-col C --label-col C`: a text classifier."""
    from . import data, train

    if not args.text_col:
        raise UserError("--text-col is required for a text model (for form data: --task tabular)")
    if not args.label_col:
        raise UserError("--label-col is required for a text model (the column of labels)")
    for flag, value in (("--positive-label", args.positive_label), ("--feature-info", args.feature_info)):
        if value is not None:
            raise UserError(f"{flag} goes with --task tabular (a form's headline and fields)")
    labels = _label_list(args.labels)
    dataset = data.load(args.data, args.text_col, args.label_col, labels)
    config = _train_config(args, name=args.name or Path(args.out).name)
    if args.examples:
        config.examples, config.examples_source = data.read_examples(args.examples), args.examples
    config.distill = _distill_config(args)
    train(dataset, Path(args.out), config, report, force=args.force)


def _distill_config(args: argparse.Namespace):
    from .distill import DistillConfig

    if not args.teacher:
        given = [flag for flag, value in (("--unlabeled", args.unlabeled), ("--augment", args.augment),
                 ("--teacher-temperature", args.teacher_temperature), ("--teacher-weight", args.teacher_weight),
                 ("--teacher-subset", args.teacher_subset)) if value]
        if given:
            raise UserError(f"{given[0]} needs --teacher MODEL_DIR (it is part of learning from a teacher)")
        return None
    config = DistillConfig(args.teacher, unlabeled=args.unlabeled, text_col=args.text_col, augment=args.augment or 0,
                           teacher_subset=args.teacher_subset)
    if args.teacher_temperature is not None:
        config.temperature = args.teacher_temperature
    if args.teacher_weight is not None:
        config.weight = args.teacher_weight
    return config


def train_tabular(args: argparse.Namespace, report: Report) -> None:
    """`staticml train DATA --task tabular --label-col C`: a form-data classifier."""
    from . import tabular

    if not args.label_col:
        raise UserError("--label-col is required for a tabular model (the column of labels)")
    if args.features and args.drop:
        raise UserError("give --features or --drop, not both")
    if getattr(args, "coverage", None) is not None:
        raise UserError("--coverage: prediction sets are fitted for text models only (not with --task tabular)")
    if args.examples:
        raise UserError("--examples: the tabular page shows no example rows (its form starts at each feature's typical value)")
    table = tabular.load(args.data, args.label_col, features=_names(args.features, "--features"),
                         drop=_names(args.drop, "--drop"), categorical=_names(args.categorical, "--categorical"),
                         numeric=_names(args.numeric, "--numeric"))
    table = tabular.with_choices(table, _label_list(args.labels), args.positive_label, args.feature_info)
    tabular.train(table, Path(args.out), name=args.name or Path(args.out).name, report=report, force=args.force)


def _names(value: str | None, flag: str) -> list[str] | None:
    """Column names from a comma-separated option."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise UserError(f"{flag} {value!r}: give column names, comma-separated")
    return names


def demo_text(args: argparse.Namespace, workdir: Path, report: Report) -> Path:
    """The article's model: negative vs positive, read as a 0..1 score, on the embedded tweets."""
    from . import data, train

    model_dir = workdir / "sentiment"
    config = _train_config(args, name="sentiment")
    config.examples, config.examples_source = DEMO_EXAMPLES, "the demo's own hand-written examples"
    train(data.load_default(keep_labels=["negative", "positive"]), model_dir, config, report)
    return model_dir


def demo_tabular(args: argparse.Namespace, workdir: Path, report: Report) -> Path:
    """The article's eligibility check: a credit-scoring model behind a form, trained on credit_data."""
    from . import tabular

    model_dir = workdir / "credit"
    tabular.train(tabular.load_default(), model_dir, name="credit", report=report)
    return model_dir


def demo_camera(args: argparse.Namespace, workdir: Path, report: Report) -> Path:
    """The article's camera app: MediaPipe's face detector imported, for the camera page."""
    from .tflite_import import bundled_detector, import_tflite

    model_dir = workdir / "face"
    import_tflite(bundled_detector(), model_dir, report=report)
    return model_dir


def _train_config(args: argparse.Namespace, name: str):
    from . import TrainConfig

    if args.finetune and args.arch != "minilm":
        raise UserError("--finetune needs --arch minilm (it trains a pretrained encoder's top layers)")
    config = TrainConfig(arch=args.arch, name=name, finetune=args.finetune)
    if getattr(args, "coverage", None) is not None:
        config.coverage = args.coverage
    if getattr(args, "epochs", None):
        config.epochs = args.epochs
    if getattr(args, "width", None):
        if args.arch != "tiny":
            raise UserError("--width is the tiny model's embedding width; it needs --arch tiny")
        config.width = args.width
    return config


def _label_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    labels = [label.strip() for label in value.split(",") if label.strip()]
    if len(labels) < 2 or len(set(labels)) != len(labels):
        raise UserError(f"--labels {value!r}: give at least two different labels, comma-separated")
    return labels
