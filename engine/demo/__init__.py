"""Offline demo material: a tiny random CLIP and a generated dataset (app demo, tests, bench)."""
