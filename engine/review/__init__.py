"""Review wing: what is wrong with a dataset: likely label mistakes (cleanlab over
cross-validated probabilities), near-duplicates (across splits above all), and the
user's review decisions, saved without touching their folder."""
