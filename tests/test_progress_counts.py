"""Long work reports what it does and how far it got: decoding says its count before it reads
a file, and the data check reports every phase (decode, embed, the probe's folds, the
ranking, the near-duplicate search, the report files) with counts that start at 0, only grow
and end at the total."""
from __future__ import annotations

import pytest

from engine.data.cache import DecodeCache
from review_data import colour_folder

pytestmark = pytest.mark.usefixtures("isolated_home")


@pytest.fixture
def photos(learnable_dir) -> list[str]:
    return sorted(str(p) for p in learnable_dir.rglob("*.jpg"))[:6]


def test_decoding_says_its_count_before_it_reads_a_file(photos, tmp_path, monkeypatch):
    seen = []
    key = DecodeCache.entry_key

    def entry_key(self, path):
        seen.append("file")
        return key(self, path)

    monkeypatch.setattr(DecodeCache, "entry_key", entry_key)
    n = len(photos)
    DecodeCache(36, disk_dir=tmp_path / "c").load(photos, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, n)  # at once, not after a stat of every file
    counts = [s for s in seen if s != "file"]
    assert counts == [(i, n) for i in range(n + 1)]


def test_a_reused_memory_mapped_set_reports_start_and_end(photos, tmp_path):
    # a budget below one image: the set is a memory-mapped file, reused the second time
    cache = DecodeCache(36, disk_dir=tmp_path / "c", max_memory_mb=0)
    cache.load(photos)
    calls = []
    result = cache.load(photos, progress=lambda d, t: calls.append((d, t)))
    assert result.on_disk and result.decoded == 0
    assert calls == [(0, len(photos)), (len(photos), len(photos))]


def _runs(calls: list[tuple[str, int, int]]) -> dict[str, list[tuple[int, int]]]:
    stages: dict[str, list[tuple[int, int]]] = {}
    for stage, done, total in calls:
        stages.setdefault(stage, []).append((done, total))
    return stages


def test_the_data_check_reports_every_phase_with_counts(tmp_path, tiny_clip_dir):
    from engine.review.check import check_dataset

    data = colour_folder(tmp_path / "colours", per_class=12)
    images = len(list(data.rglob("*.jpg")))
    calls: list[tuple[str, int, int]] = []
    report = check_dataset(str(data), model_ref=str(tiny_clip_dir), output=str(tmp_path / "r"),
                           device="cpu", folds=3,
                           progress=lambda stage, d, t: calls.append((stage, d, t)))
    order = list(dict.fromkeys(stage for stage, _d, _t in calls))
    assert order == ["scan", "decode", "embed", "probe", "rank", "duplicates", "report"]
    # each phase is one stretch: once the next began, the earlier one never reports again
    assert [stage for stage, _d, _t in calls] == sorted(
        (stage for stage, _d, _t in calls), key=order.index)
    stages = _runs(calls)
    totals = {"decode": images, "embed": report.images, "probe": 3,
              "duplicates": report.images, "report": 3}
    for stage, total in totals.items():
        counts = stages[stage]
        assert counts[0] == (0, total), stage  # the total is known as the phase begins
        assert counts[-1] == (total, total), stage
        assert all(t == total for _d, t in counts), stage
        done = [d for d, _t in counts]
        assert done == sorted(done), stage  # never backwards
    assert stages["probe"] == [(0, 3), (1, 3), (2, 3), (3, 3)]  # one report per fold
    assert stages["rank"] == [(0, 0)]  # cleanlab's ranking has no count: total 0 says so
    assert stages["scan"][-1][0] == stages["scan"][-1][1]
    assert (tmp_path / "r" / "near_duplicates.csv").is_file()
