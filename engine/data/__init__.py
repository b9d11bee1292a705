"""Data wing: dataset layouts, validation, image reading, the index and splits, the decode
cache, framing (the part of a picture a model's own processor keeps), augmentation,
Stanford Dogs preparation."""
