"""Shared test helpers: tiny checkpoints and folders (tiny), a toy task and data for the trainer (toy),
stand-in tasks (standin), a tiny photo set drawn with PIL for the photo benchmark (photos), and the
paths of the shared data (paths)."""
