"""Review wing: what is wrong with a dataset: likely label mistakes (cleanlab over
cross-validated probabilities), near-duplicates (across splits above all), and the
user's review decisions, saved without touching their folder; and sorting an unsorted
folder: cached embeddings, proposed classes, the "Ask me" order, the dataset it becomes."""

# The near-duplicate threshold (cosine similarity of the centred embeddings): here, not in
# duplicates.py, so the command line's --help names it without importing torch.
DEFAULT_THRESHOLD = 0.95
