"""Inference: the photo pipeline around the learned networks (named, switchable steps)."""
