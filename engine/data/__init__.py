"""Data wing: dataset layouts, validation, image reading, the index and splits, the decode
cache, augmentation, Stanford Dogs preparation."""
