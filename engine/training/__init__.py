"""Training wing: the loop and its phases, inputs, learner, step plan, run recording,
failure words, control, and the zero-shot baseline."""
