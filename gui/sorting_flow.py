"""Sorting an unsorted folder, in the background: embed every image (engine.review.sorting,
cached per model and file content), propose a class for each (engine.review.proposals), and
propose again as the user's confirmations accumulate, or with a trained run's model.

The GUI thread never runs the maths: embedding, proposing and the "Ask me" order run in a
FunctionThread; the window only receives a SortResult. Proposals asked for while one is
being computed are computed once it ends, from the newest confirmations (no keypress is
lost, none waits).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from gui.engine_texts import engine_again
from gui.i18n import dynamic, translate
from gui.progress_text import staged
from gui.scan_worker import FunctionThread, keep_alive


@dataclass
class SortResult:
    """What the sorting view shows, for the images of the folder (examples left out)."""
    paths: list[str]
    vectors: object  # torch.Tensor [N, D]: the embeddings of `paths`, in that order
    best: np.ndarray  # [N] proposed class index
    confidence: np.ndarray  # [N] its calibrated probability
    second: np.ndarray
    second_confidence: np.ndarray
    ask: list[int]  # indices into `paths`, the most useful question first
    method: str  # zero-shot | prototypes | probe
    score: float | None  # its held-out accuracy on the confirmed images, once known
    source: str = ""  # what embedded them, in words
    run: str = ""  # the run whose model embeds them ("" for the base model)
    failed: list[dict] = field(default_factory=list)  # {path, reason}: unreadable images
    reused: int = 0  # embeddings that came from the cache


def _stage_text(stage: str) -> str:
    from gui.progress_text import template

    if stage == "hash":
        return translate("SortingFlow", "Reading {done} / {total} files")
    return template(stage)


class SortingFlow(QObject):
    """Signals: busy(str), progress(done, total), idle(), ready(SortResult) for a new
    embedding pass, proposals(SortResult) for proposals made again, message(str|Tr),
    copied(int)."""

    busy = Signal(str)
    progress = Signal(int, int)
    idle = Signal()
    ready = Signal(object)
    proposals = Signal(object)
    message = Signal(object)
    copied = Signal(int)

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.thread: FunctionThread | None = None  # embedding or copying (shows the busy row)
        self.propose_thread: FunctionThread | None = None
        self._pending: dict | None = None  # confirmations waiting for the next proposals
        self._state: dict = {}  # all paths, vectors, head, examples, classes: worker inputs
        self._generation = 0  # a new embedding pass makes older proposals stale

    @property
    def running(self) -> bool:
        return self.thread is not None and self.thread.isRunning()

    def cancel(self) -> None:
        if self.thread is not None:
            self.thread.cancel()

    # -- embedding -----------------------------------------------------------------------
    def start(self, images: list[str], classes: list[str], model: str, examples: str = "",
              confirmed: dict[str, int] | None = None, run: str = "") -> None:
        """Embed `images` (plus the examples) with `model` (or `run`'s model) and propose."""
        if self.running:
            return
        confirmed = dict(confirmed or {})

        def work(report):
            from engine.review.sorting import SortCancelled, embed_images

            example_rows = {}
            if examples:
                from engine.cli.sorting import _examples

                example_rows = _examples(examples, classes)

            progress = staged(report, self.busy.emit, _stage_text)

            try:
                emb = embed_images(list(images) + sorted(example_rows), classes,
                                   model_ref=model, run_dir=run or None, progress=progress,
                                   cancel=lambda: thread._cancel.is_set())
            except SortCancelled:
                report(0, 0)  # raises the thread's own cancellation: cancelled(), not failed
                raise
            examples_set = set(example_rows)
            state = {"all": emb.paths, "vectors": emb.vectors, "head": emb.head,
                     "examples": {p: c for p, c in example_rows.items() if p in emb.paths},
                     "classes": classes, "source": emb.source, "run": run,
                     "grid": [p for p in emb.paths if p not in examples_set],
                     "failed": list(emb.failed), "reused": emb.reused}
            return state, _proposals(state, confirmed)

        thread = FunctionThread(work, translate("SortingFlow", "embedding the images"), self)
        self.thread = keep_alive(thread)
        thread.progress.connect(self.progress)
        thread.succeeded.connect(self._on_embedded)
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self._on_cancelled)
        self._generation += 1
        self.busy.emit(translate("SortingFlow", "Embedding the images with {model}…").format(
            model=run or model))
        thread.start()

    def _on_embedded(self, outcome) -> None:
        self.idle.emit()
        self._state, result = outcome
        self.ready.emit(result)

    def _on_failed(self, text: str) -> None:
        self.idle.emit()
        self.message.emit(dynamic(lambda: translate(
            "SortingFlow", "⚠ Sorting could not go on. {error}").format(
            error=engine_again(text))))

    def _on_cancelled(self) -> None:
        self.idle.emit()
        self.message.emit(translate("SortingFlow", "Embedding was cancelled; nothing was "
                                    "changed. Open the folder again to go on (what was embedded "
                                    "so far is kept)."))

    # -- proposing again -----------------------------------------------------------------
    def repropose(self, confirmed: dict[str, int]) -> None:
        """Propose again from `confirmed` ({path: class index}); a call while proposals are
        being computed is done once they are (the newest confirmations only)."""
        if not self._state:
            return
        self._pending = dict(confirmed)
        if self.propose_thread is None or not self.propose_thread.isRunning():
            self._propose_next()

    def _propose_next(self) -> None:
        if self._pending is None:
            return
        confirmed, self._pending = self._pending, None
        state, generation = self._state, self._generation

        def work(_report):
            return generation, _proposals(state, confirmed)

        thread = FunctionThread(work, translate("SortingFlow", "proposing classes"), self)
        self.propose_thread = keep_alive(thread)
        thread.succeeded.connect(self._on_proposed)
        thread.failed.connect(self._on_failed)
        thread.finished.connect(self._propose_next)
        thread.start()

    def _on_proposed(self, outcome) -> None:
        generation, result = outcome
        if generation == self._generation:
            self.proposals.emit(result)

    # -- copying -------------------------------------------------------------------------
    def copy(self, moves: list, move: bool, done: Callable[[int], None] | None = None) -> None:
        """Copy (or, confirmed, move) into class folders in the background."""
        def work(report):
            from engine.review.sorted_output import apply_class_folders

            report(0, len(moves))
            return len(apply_class_folders(moves, move=move))

        thread = FunctionThread(work, translate("SortingFlow", "copying into class folders"),
                                self, needs=None)
        self.thread = keep_alive(thread)
        thread.succeeded.connect(lambda n: (self.idle.emit(), self.copied.emit(n)))
        thread.failed.connect(self._on_failed)
        thread.cancelled.connect(self.idle)
        self.busy.emit((translate("SortingFlow", "Moving {count} images…") if move else
                        translate("SortingFlow", "Copying {count} images…")).format(
                            count=len(moves)))
        thread.start()

    def shutdown(self) -> None:
        for thread in (self.thread, self.propose_thread):
            if thread is not None:
                thread.cancel()
                thread.wait()


def _proposals(state: dict, confirmed: dict[str, int]) -> SortResult:
    """Runs in a worker: proposals and the "Ask me" order for the grid's images."""
    from engine.review.proposals import ask_order, propose

    import numpy as np

    from engine.review.proposals import Proposals

    row_of = {p: i for i, p in enumerate(state["all"])}
    rows = {row_of[p]: c for p, c in {**state["examples"], **confirmed}.items() if p in row_of}
    classes = len(state["classes"])
    if state["head"] is None and len(set(rows.values())) < classes:
        # no text tower (DINOv2) and not yet an example of every class: nothing can propose;
        # the user labels a few first, in the "Ask me" order, spread over clusters
        result = Proposals(probs=np.full((len(state["all"]), classes), 1.0 / classes),
                           method="none", temperature=1.0)
    else:
        result = propose(state["vectors"], rows, classes, head=state["head"])
    best, p1, second, p2 = result.top2()
    grid = [row_of[p] for p in state["grid"]]
    at = {r: i for i, r in enumerate(grid)}
    ask = [at[r] for r in ask_order(result, state["vectors"], rows) if r in at]
    return SortResult(paths=list(state["grid"]), vectors=state["vectors"][grid],
                      best=best[grid], confidence=p1[grid], second=second[grid],
                      second_confidence=p2[grid], ask=ask, method=result.method,
                      score=result.scores.get(result.method), source=state["source"],
                      run=state["run"], failed=state["failed"], reused=state["reused"])
