"""The data check: label mistakes and near-duplicates of one dataset, as one report.

Written as data_check.json (everything), label_issues.csv and near_duplicates.csv into a
report folder: the run's (`--run`: runs/<name>/data_check/) or the app's data folder
(<data>/reports/<dataset>-<date>/). The user's dataset folder is only read.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.errors import UserError
from engine.i18n import _
from engine.review.duplicates import DEFAULT_THRESHOLD, DuplicatePair, find_near_duplicates
from engine.review.labels import CHECKED_SPLITS, LabelIssue, find_label_issues

REPORT_FILE = "data_check.json"


@dataclass
class DataReport:
    root: str  # the dataset checked
    layout: str
    source: str  # what made the embeddings
    created: str
    report_dir: str
    checked: int  # train + val images whose labels were checked
    images: int  # readable images compared for near-duplicates
    issues: list[dict] = field(default_factory=list)  # LabelIssue dicts, most suspicious first
    duplicates: list[dict] = field(default_factory=list)  # DuplicatePair dicts
    failed: list[dict] = field(default_factory=list)  # {path, reason}
    threshold: float = DEFAULT_THRESHOLD
    folds: int = 5

    @property
    def leaks(self) -> list[dict]:
        return [d for d in self.duplicates if d["across_splits"]]

    def summary(self) -> str:
        lines = [_("{root}: {checked} train/val images checked with {source}").format(
                     root=self.root, checked=self.checked, source=self.source),
                 _("  likely label mistakes: {count}").format(count=len(self.issues)),
                 _("  near-duplicate pairs: {count} ({leaks} across splits)").format(
                     count=len(self.duplicates), leaks=len(self.leaks))]
        for issue in self.issues[:10]:
            lines.append(_("  {path}: labelled {given}, looks like {suggested} (label quality "
                           "{score:.2f})").format(path=issue["path"], given=issue["given"],
                                                  suggested=issue["suggested"],
                                                  score=issue["score"]))
        if len(self.issues) > 10:
            lines.append(_("  ... {count} more in label_issues.csv").format(
                count=len(self.issues) - 10))
        lines.append(_("report: {path}").format(path=self.report_dir))
        return "\n".join(lines)


def default_report_dir(root: str, run_dir: str | None) -> Path:
    if run_dir:
        return Path(run_dir) / "data_check"
    from engine.config import default_data_dir

    stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    return default_data_dir() / "reports" / f"{Path(root).name or 'dataset'}-{stamp}"


def check_dataset(data_dir: str, *, model_ref: str | None = None, run_dir: str | None = None,
                  output: str | None = None, threshold: float = DEFAULT_THRESHOLD,
                  folds: int = 5, device: str = "auto", index=None,
                  progress: Callable[[str, int, int], None] | None = None) -> DataReport | None:
    """Check `data_dir` (or the given `index`) and write the report; see the module doc.
    Under torchrun / accelerate launch the processes share the embedding pass and the first
    one checks and writes alone: the others get None.

    progress(stage, done, total) hears every phase, in order: "scan" (files, without an
    `index`), "decode" and "embed" (images), "probe" (cross-validation folds), "rank"
    (cleanlab's ranking: total 0, its length is not known), "duplicates" (images compared)
    and "report" (files written)."""
    from engine.data.index import scan_dataset
    from engine.review.embeddings import embed_dataset

    if index is None:
        index = scan_dataset(data_dir, progress=(lambda d, t: progress("scan", d, t))
                             if progress else None)
    if index.errors:
        raise UserError(_("The dataset cannot be checked: {reasons}").format(
            reasons=" ".join(p.reason for p in index.errors)))
    embedded = embed_dataset(index, model_ref=model_ref, run_dir=run_dir, device=device,
                             progress=progress)
    if embedded is None:  # another process of the launch: the first one reports
        return None
    issues: list[LabelIssue] = find_label_issues(embedded, folds=folds, progress=progress)
    pairs: list[DuplicatePair] = find_near_duplicates(
        embedded, threshold, progress=(lambda d, t: progress("duplicates", d, t))
        if progress else None)
    out = Path(output) if output else default_report_dir(index.root, run_dir)
    report = DataReport(
        root=index.root, layout=index.layout, source=embedded.source,
        created=dt.datetime.now().isoformat(timespec="seconds"), report_dir=str(out),
        checked=sum(s in CHECKED_SPLITS for s in embedded.splits), images=len(embedded),
        issues=[i.to_dict() for i in issues], duplicates=[p.to_dict() for p in pairs],
        failed=embedded.failed, threshold=threshold, folds=folds)
    write_data_report(report, progress=(lambda d, t: progress("report", d, t))
                      if progress else None)
    return report


def _write_csv(path: Path, rows: list[dict], columns: list[str]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    os.replace(tmp, path)


def write_data_report(report: DataReport,
                      progress: Callable[[int, int], None] | None = None) -> None:
    """The report's three files; progress(files written, 3) as they are."""
    from dataclasses import asdict

    from engine.runs import write_json_atomic

    tell = progress or (lambda done, total: None)
    out = Path(report.report_dir)
    tell(0, 3)
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(out / REPORT_FILE, asdict(report))
    tell(1, 3)
    _write_csv(out / "label_issues.csv", report.issues,
               ["path", "split", "given", "suggested", "score", "given_probability",
                "suggested_probability", "flagged"])
    tell(2, 3)
    _write_csv(out / "near_duplicates.csv", report.duplicates,
               ["first", "second", "similarity", "pixel_similarity", "across_splits",
                "first_split", "second_split", "first_label", "second_label"])
    tell(3, 3)


def load_data_report(folder: str | os.PathLike) -> DataReport:
    """A saved report (JSON only, so a report from elsewhere cannot run code)."""
    import dataclasses

    from engine.safe_read import damaged, read_json

    path = Path(folder) / REPORT_FILE
    data = read_json(path)
    names = {f.name for f in dataclasses.fields(DataReport)}
    try:
        return DataReport(**{k: v for k, v in data.items() if k in names})
    except TypeError as exc:
        raise damaged(path, _("is not a data check report"), str(exc),
                      _("Run the data check again.")) from None
