"""Use wing: what a trained run is for: predict, evaluate, export, report images."""
