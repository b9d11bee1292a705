"""The sweep folder: `<output>/sweep-<name>/`.

    study.journal   Optuna's study (JournalFileStorage: JSON lines, file-locked, so several
                    processes share it and a later command continues it)
    sweep.json      the base config, the mode, the best trial so far (sorted JSON)
    trials.csv      one row per trial: state, validation accuracy, minutes, its settings
    best.yaml       the base config with the best trial's settings (train it in full)
    trial-000/ ...  ordinary run folders; run.json's "sweep" says how the trial ended
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import os
import re
from pathlib import Path
from typing import Any

from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _
from engine.runs import effective_status, read_run, write_json_atomic
from engine.sweep.events import TrialUpdate
from engine.sweep.space import config_key, to_changes, tuned_config

STUDY = "sweep"


def sweep_dir(output_dir: str | Path, name: str) -> Path:
    slug = re.sub(r"[^\w.-]+", "-", name.strip()).strip("-.") or "sweep"
    return Path(output_dir) / f"sweep-{slug}"


def trial_name(number: int) -> str:
    return f"trial-{number:03d}"


class SweepFolder:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.journal = self.path / "study.journal"
        self.meta_path = self.path / "sweep.json"
        self.csv_path = self.path / "trials.csv"
        self.best_path = self.path / "best.yaml"

    def lock(self):
        """A lock across processes (torchrun ranks) for deciding who starts the next trial."""
        from filelock import FileLock

        return FileLock(str(self.path / ".sweep.lock"))

    def exists(self) -> bool:
        return self.meta_path.is_file()

    def check_same(self, base: TrainConfig, mode: str) -> None:
        """A folder continues only the sweep it holds (the same base config and mode)."""
        meta = self.meta()
        if meta.get("mode") != mode or meta.get("base_key") != _plain(config_key(base)):
            raise UserError(_("{folder} holds a sweep of another configuration or mode. Give "
                              "this sweep another --name (or --output-dir), or run the same "
                              "command as before to continue it.").format(folder=self.path))

    def meta(self) -> dict[str, Any]:
        import json

        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(_("{path} cannot be read ({error}); it is not a sweep this version "
                              "can continue.").format(path=self.meta_path, error=exc)) from None
        return data if isinstance(data, dict) else {}

    def create(self, base: TrainConfig, mode: str, note: str, epochs: int) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        if not self.exists():
            write_json_atomic(self.meta_path, {
                "base_config": base.to_dict(), "base_key": _plain(config_key(base)),
                "mode": mode, "mode_note": note, "trial_epochs": epochs,
                "created": _dt.datetime.now().isoformat(timespec="seconds"), "best": None})

    def open_study(self, seed: int):
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own lines say what happens
        storage = JournalStorage(JournalFileBackend(str(self.journal)))
        # a trial is pruned when an epoch's validation accuracy is below the median of the
        # earlier trials' at the same epoch (once two trials have finished)
        pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
        study = optuna.create_study(study_name=STUDY, storage=storage, direction="maximize",
                                    load_if_exists=True, pruner=pruner)
        study.sampler = optuna.samplers.TPESampler(
            n_startup_trials=4, seed=seed + len(study.trials))  # a continued study: new draws
        return study

    # --- the record --------------------------------------------------------------------
    def rows(self, study) -> list[TrialUpdate]:
        """Every trial of the study as a table row (waiting ones left out)."""
        return [row for t in study.get_trials(deepcopy=False) if (row := trial_row(t))]

    def write_summary(self, study, base: TrainConfig, mode: str) -> dict[str, Any] | None:
        """sweep.json's best, trials.csv and best.yaml from the study; the best row's dict."""
        rows = self.rows(study)
        best = max((r for r in rows if r.state == "complete" and r.value is not None),
                   key=lambda r: r.value, default=None)
        meta = self.meta()
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.state] = counts.get(r.state, 0) + 1
        meta.update(trials=counts, updated=_dt.datetime.now().isoformat(timespec="seconds"),
                    best=None if best is None else {
                        "trial": best.number, "val_accuracy": best.value, "run_dir": best.run_dir,
                        "changes": best.changes})
        write_json_atomic(self.meta_path, meta)
        _write_atomic(self.csv_path, _csv(rows))
        if best is not None:
            params = study.trials[best.number].params
            text = _yaml(tuned_config(base, mode, params))
            _write_atomic(self.best_path, text)
        return meta["best"]


def trial_row(t) -> TrialUpdate | None:
    """An optuna FrozenTrial as a table row."""
    state = t.state.name.lower()
    attrs = t.user_attrs
    if state == "waiting":
        return None
    if state == "fail":
        state = "interrupted" if attrs.get("interrupted") else "failed"
    if state == "running" and not owner_alive(attrs.get("owner")):
        state = "interrupted"
    values = [v for e, v in t.intermediate_values.items() if e >= 1]
    value = t.value if t.state.name == "COMPLETE" else (max(values) if values else None)
    return TrialUpdate(number=t.number, state=state, run_dir=attrs.get("run_dir", ""),
                       changes=to_changes(t.params), value=value, epoch=len(values),
                       epochs=int(attrs.get("epochs", 0)), minutes=float(attrs.get("minutes", 0.0)),
                       note=str(attrs.get("note", "")))


def owner_alive(owner: Any) -> bool:
    """Whether the process that started a trial still runs (a trial of a dead one is rerun)."""
    if not isinstance(owner, dict):
        return False
    return effective_status({"status": "running", "process": owner}) == "running"


def mark_run(run_dir: str | Path, sweep: dict[str, Any]) -> None:
    """Say in a trial's run.json how the sweep saw it end (pruned, interrupted, ...)."""
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        return
    try:
        data = read_run(run_dir)
    except Exception:  # noqa: BLE001 - a damaged trial folder keeps what it has
        return
    data["sweep"] = sweep
    write_json_atomic(path, data)


def _plain(data: Any) -> Any:
    """JSON's view of `data` (lists for tuples), so a stored key compares equal."""
    import json

    return json.loads(json.dumps(data, sort_keys=True))


def _csv(rows: list[TrialUpdate]) -> str:
    names = sorted({k for r in rows for k in r.changes})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["trial", "state", "val_accuracy", "epochs", "minutes", *names, "run_dir"])
    for r in rows:
        writer.writerow([r.number, r.state, "" if r.value is None else f"{r.value:.4f}",
                         r.epoch, f"{r.minutes:.2f}", *[r.changes.get(n, "") for n in names],
                         r.run_dir])
    return out.getvalue()


def _yaml(config: TrainConfig) -> str:
    import yaml

    return yaml.safe_dump(config.to_dict(), sort_keys=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)

