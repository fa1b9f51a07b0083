"""Model architectures that `train` can build. Each maps (input_ids, attention_mask) to logits."""
