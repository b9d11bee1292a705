"""A faithful re-implementation of the tutorial's training loop and predict function.

This is the baseline every speed claim is measured against, so it keeps the tutorial's
choices on purpose, slow ones included:
- a torch Dataset whose __getitem__ opens the JPEG with PIL and runs CLIPProcessor on it,
  every epoch, inside DataLoader(num_workers=4, shuffle=True) worker processes;
- the whole CLIPModel (text tower loaded too), fp32, peft LoRA on q_proj/v_proj
  (r=8, alpha=32, dropout 0.1) applied to the whole model;
- get_image_features -> nn.Linear head (random init), one AdamW(lr=5e-4) over every parameter
  with torch's default weight decay 0.01 (the head's bias included), cross-entropy, a cosine
  schedule to 0 over every step (no warm-up), no gradient clipping, no augmentation (the
  processor's resize and centre crop only), every epoch (no early stopping);
- predict(image_path): one image at a time through the processor and the model.
Only the transformers 5 API change is adapted (get_image_features returns an output
object: its pooler_output is the projected embedding).
"""
from __future__ import annotations

import time
from typing import Iterator, Sequence

import torch
from PIL import Image
from torch import nn
from torch.utils.data import DataLoader, Dataset

NUM_WORKERS = 4  # the tutorial's DataLoader setting


class TutorialDataset(Dataset):
    def __init__(self, samples: Sequence[tuple[str, int]], processor):
        self.samples = list(samples)
        self.processor = processor

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, idx: int):
        path, label = self.samples[idx]
        image = Image.open(path).convert("RGB")
        inputs = self.processor(images=image, return_tensors="pt")
        return inputs["pixel_values"].squeeze(0), label


class TutorialClassifier(nn.Module):
    def __init__(self, clip_model, num_classes: int):
        super().__init__()
        self.clip = clip_model
        self.classifier = nn.Linear(clip_model.config.projection_dim, num_classes)

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        out = self.clip.get_image_features(pixel_values=pixel_values)
        features = out if isinstance(out, torch.Tensor) else out.pooler_output  # transformers 5
        return self.classifier(features)


def load_tutorial_model(model_dir: str, num_classes: int, device: str | torch.device = "cpu"):
    """(classifier with LoRA, processor), exactly as the tutorial builds them."""
    from peft import LoraConfig, get_peft_model
    from transformers import CLIPModel, CLIPProcessor

    from engine.model.classifier import quiet_transformers

    with quiet_transformers():
        model = CLIPModel.from_pretrained(model_dir)
        processor = CLIPProcessor.from_pretrained(model_dir)
    lora_config = LoraConfig(r=8, lora_alpha=32, target_modules=["q_proj", "v_proj"],
                             lora_dropout=0.1, bias="none")
    model = get_peft_model(model, lora_config)
    return TutorialClassifier(model, num_classes).to(device), processor


class TutorialTrainer:
    """The tutorial's loop, runnable a few steps at a time so it can be interleaved.

    `window(n)` starts a fresh DataLoader iterator (as each epoch of the tutorial does),
    runs `warmup` untimed steps (worker start-up, first batches) and then n timed steps,
    and shuts the workers down again, so no decoding leaks into another contender's time.
    """

    def __init__(self, model_dir: str, samples: Sequence[tuple[str, int]], num_classes: int, *,
                 batch_size: int = 32, epochs: int = 10, device: str = "cpu", seed: int = 0,
                 num_workers: int = NUM_WORKERS):
        torch.manual_seed(seed)
        self.device = torch.device(device)
        self.model, self.processor = load_tutorial_model(model_dir, num_classes, self.device)
        self.loader = make_loader(samples, self.processor, batch_size, self.device, num_workers)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=5e-4)
        self.scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.optimizer, T_max=max(1, epochs * len(self.loader)))
        self.criterion = nn.CrossEntropyLoss()
        self.last_loss = float("nan")

    def train_step(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.model.train()
        images = images.to(self.device, non_blocking=True)
        labels = labels.to(self.device, non_blocking=True)
        self.optimizer.zero_grad()
        logits = self.model(images)
        loss = self.criterion(logits, labels)
        loss.backward()
        self.optimizer.step()
        self.scheduler.step()
        self.last_loss = loss.item()

    def window(self, steps: int, warmup: int = 1) -> list[float]:
        """Seconds of each of `steps` timed steps (batch fetch + step), after `warmup`."""
        times: list[float] = []
        it = iter(self.loader)
        try:
            for i in range(warmup + steps):
                start = time.perf_counter()
                try:
                    images, labels = next(it)
                except StopIteration:  # epoch over: the tutorial starts the next one
                    it = iter(self.loader)
                    images, labels = next(it)
                self.train_step(images, labels)
                if i >= warmup:
                    times.append(time.perf_counter() - start)
        finally:
            _shutdown(it)
        return times


def make_loader(samples: Sequence[tuple[str, int]], processor, batch_size: int = 32,
                device: torch.device = torch.device("cpu"), num_workers: int = NUM_WORKERS):
    return DataLoader(TutorialDataset(samples, processor), batch_size=batch_size, shuffle=True,
                      num_workers=num_workers, pin_memory=device.type == "cuda")


def loader_throughput(loader: DataLoader, batches: int) -> float | None:
    """Images/s the tutorial's DataLoader delivers on its own (no training), after the
    first batch (worker start-up excluded)."""
    it = iter(loader)
    try:
        next(it)
        start, count = time.perf_counter(), 0
        for _ in range(batches):
            try:
                images, _ = next(it)
            except StopIteration:
                break
            count += len(images)
        return count / max(time.perf_counter() - start, 1e-9) if count else None
    finally:
        _shutdown(it)


def _shutdown(it) -> None:
    stop = getattr(it, "_shutdown_workers", None)
    if stop is not None:
        stop()


def tutorial_job(model_dir: str, train: Sequence[tuple[str, int]],
                 val: Sequence[tuple[str, int]], num_classes: int, *, epochs: int = 10,
                 batch_size: int = 32, device: str = "cpu", seed: int = 0,
                 num_workers: int = NUM_WORKERS) -> Iterator[float]:
    """The tutorial's whole job an epoch per next(), so another contender can run in
    between: `epochs` epochs over `train`, each followed by the tutorial's validation loop
    over `val`; yields each epoch's validation accuracy (the first epoch includes building
    the model)."""
    trainer = TutorialTrainer(model_dir, train, num_classes, batch_size=batch_size,
                              epochs=epochs, device=device, seed=seed, num_workers=num_workers)
    val_loader = DataLoader(TutorialDataset(val, trainer.processor), batch_size=batch_size,
                            shuffle=False, num_workers=num_workers)
    for _ in range(epochs):
        for images, labels in trainer.loader:
            trainer.train_step(images, labels)
        trainer.model.eval()
        correct = 0
        with torch.no_grad():
            for images, labels in val_loader:
                logits = trainer.model(images.to(trainer.device))
                correct += int((logits.argmax(-1).cpu() == labels).sum())
        yield correct / max(1, len(val))


def run_tutorial_job(model_dir: str, train: Sequence[tuple[str, int]],
                     val: Sequence[tuple[str, int]], num_classes: int, **options) -> dict:
    """tutorial_job from start to end: the validation accuracies and the seconds it took."""
    start = time.perf_counter()
    accuracies = list(tutorial_job(model_dir, train, val, num_classes, **options))
    return {"wall_s": round(time.perf_counter() - start, 2), "val_accuracy": accuracies}


def make_predict(classifier: TutorialClassifier, processor, class_names: Sequence[str],
                 device: str | torch.device = "cpu"):
    """The tutorial's predict(image_path) -> (class name, confidence), one image per call."""
    classifier.eval()

    def predict(image_path: str) -> tuple[str, float]:
        image = Image.open(image_path).convert("RGB")
        inputs = processor(images=image, return_tensors="pt")
        with torch.no_grad():
            logits = classifier(inputs["pixel_values"].to(device))
        probs = logits.softmax(-1)
        idx = int(probs.argmax(-1).item())
        return class_names[idx], float(probs[0, idx])

    return predict


__all__ = ["TutorialDataset", "TutorialClassifier", "TutorialTrainer", "load_tutorial_model",
           "make_loader", "loader_throughput", "make_predict", "tutorial_job", "run_tutorial_job",
           "NUM_WORKERS"]
