"""Proposed classes for unsorted images, with calibrated confidences, and the "Ask me" order.

Up to three proposers, recomputed from the embeddings and the current confirmations:
- the zero-shot head (CLIP/SigLIP name the classes from text; a run's own head too);
- class prototypes: the nearest unit-length mean of each class's confirmed images
  (needs 1 confirmed image per class);
- a linear probe (scikit-learn logistic regression) on the confirmed images (needs 2 per
  class, so that it can be cross-validated).

Each is scored on the confirmed images it did not see: the zero-shot head saw none;
prototypes are scored leaving each image out of its own class's mean; the probe by
stratified k-fold (k = min(5, the smallest class count)). The score is that held-out
accuracy, because it is what the user meets: the share of proposals they will not have to
change. Ties go to the lower held-out log loss (better-ranked confidences). The best one
proposes.

Calibration: one temperature, fitted by minimising the held-out log loss of the chosen
proposer's logits, once at least MIN_CALIBRATION confirmed images were scored; below that
the proposer's own scale stands (the model's logit scale for a head, PROTOTYPE_SCALE for
prototypes, scikit-learn's for the probe).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch.nn import functional as F

from engine.errors import UserError
from engine.i18n import _

MIN_CALIBRATION = 6  # held-out confirmed images needed before a temperature is fitted
PROTOTYPE_SCALE = 5.0  # centred cosine -> logit before calibration: modest on purpose
CLUSTER_PENALTY = 0.2  # margin added to a cluster's next question per question already asked
_TEMPERATURES = np.exp(np.linspace(np.log(0.005), np.log(50.0), 181))


@dataclass
class Proposals:
    probs: np.ndarray  # [N, C] calibrated probabilities, one row per embedding
    method: str  # "zero-shot" | "prototypes" | "probe"
    temperature: float  # the fitted temperature (1.0: not calibrated)
    scores: dict[str, float] = field(default_factory=dict)  # method -> held-out accuracy

    def top2(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(best class, its probability, second class, its probability), each [N]."""
        if self.probs.shape[1] < 2:
            n = len(self.probs)
            return np.zeros(n, int), self.probs[:, 0], np.zeros(n, int), np.zeros(n)
        order = np.argsort(-self.probs, axis=1, kind="stable")[:, :2]
        rows = np.arange(len(self.probs))
        return (order[:, 0], self.probs[rows, order[:, 0]], order[:, 1],
                self.probs[rows, order[:, 1]])


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _nll(logits: np.ndarray, labels: np.ndarray, t: float = 1.0, smooth: float = 0.0) -> float:
    """Mean log loss; `smooth` moves that share of each target onto all classes evenly."""
    logp = np.log(np.clip(_softmax(logits / t), 1e-12, None))
    own = logp[np.arange(len(labels)), labels]
    return float(-((1 - smooth) * own + smooth * logp.mean(1)).mean())


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """The temperature minimising the log loss of `logits` on `labels` (1.0 below
    MIN_CALIBRATION images): a grid over 0.005..50, so it is deterministic.

    The targets are smoothed by 1/(n + 2) (Laplace's rule of succession): n held-out
    images all proposed right do not prove the proposer is never wrong, and without it
    the fit would drive the temperature to 0 and every confidence to 100 %."""
    if len(labels) < MIN_CALIBRATION:
        return 1.0
    smooth = 1.0 / (len(labels) + 2)
    losses = [_nll(logits, labels, t, smooth) for t in _TEMPERATURES]
    return float(_TEMPERATURES[int(np.argmin(losses))])


def _prototype_logits(v: np.ndarray, conf_v: np.ndarray, conf_y: np.ndarray, c: int):
    sums = np.zeros((c, v.shape[1]))
    np.add.at(sums, conf_y, conf_v)
    protos = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
    full = PROTOTYPE_SCALE * v @ protos.T
    # held out: each confirmed image against its class's mean without itself
    counts = np.bincount(conf_y, minlength=c)
    keep = counts[conf_y] >= 2
    held = PROTOTYPE_SCALE * conf_v @ protos.T
    for i in np.flatnonzero(keep):
        own = sums[conf_y[i]] - conf_v[i]
        held[i, conf_y[i]] = PROTOTYPE_SCALE * conf_v[i] @ (own / max(np.linalg.norm(own), 1e-12))
    return full, held[keep], conf_y[keep]


def _probe_logits(v: np.ndarray, conf_v: np.ndarray, conf_y: np.ndarray, c: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    def fit(x, y):
        return LogisticRegression(C=10.0, max_iter=2000).fit(x, y)

    def logits(model, x):  # every class a column, also ones a fold did not see
        out = np.full((len(x), c), -30.0)
        raw = model.decision_function(x)
        if raw.ndim == 1:  # two classes: one margin
            raw = np.stack([-raw / 2, raw / 2], axis=1)
        out[:, model.classes_] = raw
        return out

    k = int(min(5, np.bincount(conf_y, minlength=c).min()))
    held = np.zeros((len(conf_y), c))
    for train, test in StratifiedKFold(k, shuffle=True, random_state=0).split(conf_v, conf_y):
        held[test] = logits(fit(conf_v[train], conf_y[train]), conf_v[test])
    return logits(fit(conf_v, conf_y), v), held, conf_y


def propose(vectors: torch.Tensor | np.ndarray, confirmed: dict[int, int], num_classes: int,
            *, head=None) -> Proposals:
    """Proposals for every row of `vectors` (unit-length embeddings) from the rows the user
    confirmed ({row: class index}) and `head` (engine.review.embedding_store.Head) when
    there is one. Confirmed rows get a proposal too (the caller shows their own class)."""
    raw = F.normalize(torch.as_tensor(vectors).float(), dim=-1)
    # centred before comparing: every embedding of a model shares a large common part, which
    # would drown the differences between classes in the cosines
    v = F.normalize(raw - raw.mean(0), dim=-1).double().numpy()
    rows = np.array(sorted(confirmed), dtype=int)
    conf_y = np.array([confirmed[r] for r in rows], dtype=int)
    if len(rows) and (conf_y.min() < 0 or conf_y.max() >= num_classes):
        raise ValueError("a confirmation names a class that does not exist")
    conf_v = v[rows] if len(rows) else np.zeros((0, v.shape[1]))
    counts = np.bincount(conf_y, minlength=num_classes)
    candidates = {}  # method -> (logits for all rows, held-out logits, held-out labels)
    if head is not None:
        full = head.logits(raw).double().numpy()
        candidates["zero-shot"] = (full, full[rows], conf_y)
    if counts.min() >= 1:
        candidates["prototypes"] = _prototype_logits(v, conf_v, conf_y, num_classes)
    if counts.min() >= 2:
        candidates["probe"] = _probe_logits(v, conf_v, conf_y, num_classes)
    if not candidates:
        missing = counts == 0
        raise UserError(_("This model cannot name the classes from text: confirm (or give as "
                          "examples) at least one image of every class first ({n} classes "
                          "have none).").format(n=int(missing.sum())))
    scores, ranks = {}, {}
    for name, (_full, held, y) in candidates.items():
        if len(y):
            scores[name] = float((held.argmax(1) == y).mean())
            ranks[name] = (-scores[name], _nll(held, y, fit_temperature(held, y)))
    order = ["zero-shot", "prototypes", "probe"]
    if ranks:
        method = min(ranks, key=lambda m: (ranks[m], order.index(m)))
    else:  # nothing confirmed yet: the head (or prototypes of single examples)
        method = next(m for m in order if m in candidates)
    full, held, y = candidates[method]
    t = fit_temperature(held, y) if len(y) else 1.0
    return Proposals(probs=_softmax(full / t), method=method, temperature=t, scores=scores)


def ask_order(proposals: Proposals, vectors: torch.Tensor | np.ndarray,
              confirmed=(), *, clusters: int | None = None) -> list[int]:
    """Unconfirmed rows, the most uncertain first (smallest margin between the top two
    probabilities), spread across k-means clusters of the embeddings: each question already
    asked in a cluster adds CLUSTER_PENALTY to that cluster's next one, so ten shots of the
    same scene are not asked in a row. Deterministic (k-means with a fixed seed)."""
    import heapq

    _best, p1, _second, p2 = proposals.top2()
    margin = p1 - p2
    rows = [i for i in range(len(margin)) if i not in set(confirmed)]
    if len(rows) < 3:
        return sorted(rows, key=lambda i: (margin[i], i))
    from sklearn.cluster import KMeans
    from sklearn.decomposition import PCA

    v = F.normalize(torch.as_tensor(vectors).float(), dim=-1).numpy()[rows]
    if v.shape[1] > 32 and len(rows) > 32:  # 32 principal axes: clusters alike, 10x faster
        v = PCA(n_components=32, svd_solver="randomized", random_state=0).fit_transform(v)
    k = clusters or int(np.clip(round(np.sqrt(len(rows) / 2)), 2, 64))
    groups = KMeans(n_clusters=min(k, len(rows)), n_init=1, max_iter=100,
                    random_state=0).fit_predict(v)
    queues: dict[int, list] = {}
    for row, g in zip(rows, groups):
        queues.setdefault(int(g), []).append((float(margin[row]), row))
    for q in queues.values():
        q.sort()
    asked = dict.fromkeys(queues, 0)
    heap = [(q[0][0], q[0][1], g) for g, q in queues.items()]
    heapq.heapify(heap)
    pos = dict.fromkeys(queues, 0)
    order = []
    while heap:
        _key, row, g = heapq.heappop(heap)
        order.append(row)
        asked[g] += 1
        pos[g] += 1
        if pos[g] < len(queues[g]):
            m, nxt = queues[g][pos[g]]
            heapq.heappush(heap, (m + CLUSTER_PENALTY * asked[g], nxt, g))
    return order
