"""LoRA Studio's engine: turns a folder of labelled images into a fine-tuned classifier.

Pure Python + torch/transformers/peft/accelerate; it never imports Qt (tests/test_architecture.py)
and runs headless as `python -m engine`. It is laid out in wings, top to bottom; a module
imports its own wing and the wings below it, never one above (tests/test_layers.py):

    cli/       the command line, one module per command group (train, predict, zero-shot)
    bench/     `python -m engine bench`: engine vs the tutorial's loop, side by side
    sweep/     `python -m engine sweep`: short, pruned training runs searching the learning
               rate, LoRA and augmentation settings (Optuna), in a resumable sweep folder
    serve/     `python -m engine serve`: the local prediction server (FastAPI + uvicorn),
               micro-batched, with offline API docs and an API key off this computer
    demo/      the offline demo model (tiny random CLIP) and generated dataset, used by the
               app's demo, the tests and the bench, never by training
    training/  the training loop (loop: the phases in order), its phases before the first
               step, the inputs it reads, the learner (optimiser, one update, validation),
               the step plan and batches, run recording, failure words, stop/pause control,
               and the zero-shot baseline
    review/    what is wrong with a dataset: likely label mistakes (cleanlab), near-duplicates
               across splits, the user's review decisions (a reviewed CSV, confirmed moves);
               sorting an unsorted folder (cached embeddings, proposals, "Ask me" order)
    use/       what a trained run is for: predict, evaluate (report), export, calibration,
               heat maps (explain), report images
    model/     the classifier (base model + LoRA + zero-shot or prototype head), the
               backbone families (backbones/: CLIP, SigLIP, DINOv2), the hub, checkpoints,
               the frozen-block cache and the run-folder safety checks
    data/      dataset layouts, validation, image reading, the dataset index and splits,
               the decode cache, augmentation, Stanford Dogs preparation, and files
               shared by the processes of a torchrun launch (shards)

The ground everything stands on: arguments (the command line's checks of ranges and paths,
made while arguments are parsed), config (settings with help text), events (what the loop
tells a front end), errors, hardware (device and precision), i18n (the translations of
user-facing texts, from the gettext catalogues in locale/), libraries (the third-party
libraries' first imports, made in one thread at a time before any engine work), runs
(listing and reading run folders) and safe_read (reading a run folder's files without executing anything).
"""
