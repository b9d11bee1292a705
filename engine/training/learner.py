"""What trains: the network (DDP-wrapped when launched so), AdamW, the LR schedule, the
gradient scaler, one optimiser update over a group of micro-batches, and validation."""
from __future__ import annotations

import torch
from torch.nn import functional as F

from engine.data.mixing import Mixer
from engine.model.block_cache import SuffixClassifier
from engine.training import balance
from engine.training.batches import batch_generator, epoch_order
from engine.training.micro_steps import MemoryFallback, accumulate
from engine.training.phases import Built, Inputs, Setup
from engine.training.plan import lr_factor, make_plan
from engine.training.scoring import EvalResult, evaluate

LOG_POINTS = 500  # at most about this many Step events per run (plots stay light)


class Learner:
    """Phase 6: the optimiser and everything one update needs.

    `model` stays the plain classifier (evaluation, checkpoints); `net` is what trains:
    the classifier, its head alone (probe) or the blocks after the cached ones, DDP-wrapped
    when launched with several processes.
    """

    def __init__(self, setup: Setup, dataset, built: Built, inputs: Inputs):
        config = setup.config
        self.setup, self.config, self.dataset = setup, config, dataset
        self.model, self.data, self.augmenter = built.model, inputs.data, inputs.augmenter
        self.device, self.autocast = setup.device, setup.precision.autocast
        self.lora = config.method == "lora"
        model = self.model
        self.suffix = SuffixClassifier(model, inputs.frozen) if inputs.frozen else None
        self.net = setup.accelerator.prepare_model(self.suffix or
                                                   (model if self.lora else model.head))
        self.params = [p for p in model.parameters() if p.requires_grad]
        head = set(model.head.parameters())
        groups = [  # LoRA at lr, the head at head_lr; its bias decayed only if asked
            {"params": [p for p in self.params if p not in head], "lr": config.lr},
            {"params": [model.head.weight], "lr": config.head_lr},
            {"params": [model.head.bias], "lr": config.head_lr,
             "weight_decay": config.weight_decay if config.decay_bias else 0.0},
        ]
        self.optimizer = torch.optim.AdamW([g for g in groups if g["params"]],
                                           weight_decay=config.weight_decay)
        self.n_train = len(self.data.splits["train"])
        self.plan = plan = make_plan(self.n_train, config.batch_size, setup.world,
                                     config.grad_accum, config.epochs, config.max_steps,
                                     config.warmup_ratio)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, plan.total_steps, plan.warmup_steps))
        self.scaler = torch.amp.GradScaler(self.device.type,
                                           enabled=setup.precision.needs_grad_scaler)
        self.log_every = max(1, plan.total_steps // LOG_POINTS)
        self.has_val = len(self.data.splits["val"]) > 0
        self.memory = MemoryFallback(config.batch_size, config.grad_accum)
        self.num_classes = len(dataset.class_names)
        # MixUp/CutMix on the augmented pixels; cached inputs are not images (see phases)
        mixer = Mixer.from_config(config)
        self.mixer = mixer if mixer.active and self.lora and self.suffix is None else None
        # class_balance (engine.training.balance): the remedy used and the log line saying why
        train_labels = self.data.splits["train"].labels
        counts = balance.class_counts(train_labels, len(dataset.class_names))
        self.balance, self.balance_note = balance.choose(config.class_balance, counts,
                                                         dataset.class_names)
        self.balance_record = balance.describe_used(config.class_balance, self.balance,
                                                    counts, dataset.class_names)
        self.class_weights = (balance.loss_weights(counts).to(self.device)
                              if self.balance == "weighted-loss" else None)

    def epoch_order(self, epoch: int) -> torch.Tensor:
        """The training positions of `epoch`: a permutation, or a class-balanced draw."""
        if self.balance == "balanced-sampler":
            return balance.balanced_order(self.data.splits["train"].labels, self.config.seed,
                                          epoch)
        return epoch_order(self.n_train, self.config.seed, epoch)

    # --- inputs -> logits ---------------------------------------------------------------
    def train_inputs(self, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        x = x.to(self.device, non_blocking=True)
        if not self.lora or self.suffix is not None:  # embeddings or states: as they are
            return x
        return self.augmenter.train_batch(x, gen)

    def eval_logits(self, x: torch.Tensor) -> torch.Tensor:
        if self.suffix is not None:
            return self.suffix(x)
        return self.model(self.augmenter.eval_batch(x)) if self.lora else self.model.head(x)

    def validate(self, split: str = "val") -> EvalResult:
        was_training = self.net.training
        self.net.eval()
        inputs, labels = self.data.split_inputs(split)
        setup = self.setup
        result = evaluate(self.eval_logits, inputs, labels, self.dataset.class_names,
                          self.config.batch_size, self.device, self.autocast,
                          setup.accelerator.reduce, setup.rank, setup.world)
        self.net.train(was_training)
        return result

    @torch.no_grad()
    def embeddings(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(image embeddings [N, D] as the head receives them, labels [N]) of `split`, through
        the same path as evaluation (full tower, cached frozen blocks, or stored embeddings)."""
        seen: list[torch.Tensor] = []
        hook = self.model.head.register_forward_pre_hook(
            lambda _module, args: seen.append(args[0].detach().float().cpu()))
        try:
            _, labels = self.logits(split)
        finally:
            hook.remove()
        return (torch.cat(seen) if seen else torch.zeros(0, self.model.head.weight.shape[1])), labels

    @torch.no_grad()
    def logits(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """(logits [N, classes] in fp32 on the CPU, labels [N]) of every image of `split`."""
        was_training = self.net.training
        self.net.eval()
        inputs, labels = self.data.split_inputs(split)
        out = []
        for start in range(0, len(labels), self.config.batch_size):
            with self.autocast():
                batch = inputs[start:start + self.config.batch_size].to(self.device)
                out.append(self.eval_logits(batch).float().cpu())
        self.net.train(was_training)
        n_classes = len(self.dataset.class_names)
        return (torch.cat(out) if out else torch.zeros(0, n_classes)), labels.cpu()

    # --- one optimiser update -----------------------------------------------------------
    def update(self, order: torch.Tensor, epoch: int, micro: int, meter) -> int:
        """Sum the gradients of micro-batches micro.. (gradient accumulation), step the
        optimiser and the schedule; returns the next micro-batch of the epoch."""
        config, plan = self.config, self.plan
        group = range(micro, min(micro + config.grad_accum, plan.micro_per_epoch))
        # out of memory: redone in smaller chunks, same images (engine.training.micro_steps)
        seen = self.memory.run(lambda: accumulate(self, order, epoch, group), self.optimizer,
                               self.device)
        for loss, logits, y in seen:
            meter.add(loss, logits, y)
        if config.grad_clip > 0:
            self.scaler.unscale_(self.optimizer)
            torch.nn.utils.clip_grad_norm_(self.params, config.grad_clip)
        self.scaler.step(self.optimizer)
        self.scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        self.scheduler.step()
        return group[-1] + 1

    # --- optional compilation -----------------------------------------------------------
    def compile(self, progress) -> str:
        """torch.compile what trains, and compile it now: one forward and backward per batch
        shape the epochs will have, so no step stalls later. Gradients and the random state
        are put back, so the run is the one it would be uncompiled. Returns '' when compiled,
        else why not (the run then goes on uncompiled)."""
        plain = self.net
        rng = torch.get_rng_state()
        cuda_rng = torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None
        per_rank = -(-self.n_train // self.setup.world)  # ceil: the first ranks' share
        sizes = sorted({min(self.config.batch_size, per_rank), per_rank % self.config.batch_size}
                       - {0}, reverse=True)
        try:
            self.net = torch.compile(plain)
            for done, size in enumerate(sizes):
                progress(done, len(sizes))
                x, y = self.data.batch("train", torch.arange(size))
                gen = batch_generator(self.config.seed, 0, 0, self.setup.rank, self.device)
                with self.autocast():
                    logits = self.net(self.train_inputs(x, gen))
                F.cross_entropy(logits.float(), y.to(self.device)).backward()
            progress(len(sizes), len(sizes))
        except Exception as exc:  # no C++ compiler, an unsupported op...
            self.net = plain
            return " ".join(str(exc).split())[:300] or type(exc).__name__
        finally:
            self.optimizer.zero_grad(set_to_none=True)
            torch.set_rng_state(rng)
            if cuda_rng is not None:
                torch.cuda.set_rng_state_all(cuda_rng)
        return ""

