"""staticml: take a model to the browser and prove it works there.

`from staticml import Classifier` is the Python API: `Classifier(model_dir)` opens a model folder
with its task's runner (staticml.tasks.open_model). It is imported on first use, so that
`import staticml` stays cheap (no onnxruntime, no tokenizers)."""

__version__ = "0.1.0"
__all__ = ["Classifier", "__version__"]


def __getattr__(name: str):
    if name == "Classifier":
        from .tasks import open_model

        return open_model
    raise AttributeError(f"module 'staticml' has no attribute {name!r}")
