"""staticml: take a text model to the browser and prove it works there."""

__version__ = "0.1.0"
