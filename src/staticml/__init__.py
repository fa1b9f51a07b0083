"""staticml: take a text model to the browser and prove it works there.

`from staticml import Classifier` is the Python API (runtime.Classifier); it is imported on first
use, so that `import staticml` stays cheap (no onnxruntime, no tokenizers)."""

__version__ = "0.1.0"
__all__ = ["Classifier", "__version__"]


def __getattr__(name: str):
    if name == "Classifier":
        from .runtime import Classifier

        return Classifier
    raise AttributeError(f"module 'staticml' has no attribute {name!r}")
