"""The training side: labeled data or a Hugging Face folder → a model folder. Needs the
`staticml[train]` extra (torch, transformers, scikit-learn); the serving side (site, server, api,
verify, bench) never imports this package (tests/unit/test_layering.py).

Modules: `data` (reading and splitting), `text` (text models: tokenizer, fit, variants),
`features` (what a model is fed, cached), `export` (ONNX and int8), `importer` (bring your own),
`models` (the architectures' PyTorch code; their specs are in `staticml.archs`).
"""

from .text import TrainConfig, train

__all__ = ["TrainConfig", "train"]
