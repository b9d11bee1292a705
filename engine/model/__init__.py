"""Model wing: the classifier (base model + LoRA + head), the hub, checkpoints, the
frozen-block cache, the compute format and the run-folder safety checks."""
