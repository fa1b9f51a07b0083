"""Whose model is it? Licence and model card (terms), signed provenance (signing), finding copies
(fingerprint) and what a site exposes (exposure). docs/model-ip.md says what each proves."""
