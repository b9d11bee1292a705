"""A small hyperparameter sweep over short training runs (Optuna, with pruning).

space: what is searched and how a trial's configuration is made from the base one;
store: the sweep folder (study journal, sweep.json, trials.csv, best.yaml);
events: what a sweep tells a front end; runner: the trials, one after another.
"""
