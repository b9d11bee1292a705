"""prepare-stanford-dogs: choose breeds, split, verify; refuse unsafe archives."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from broken_corpus import jpeg_bytes
from engine.cli import main as cli
from engine.data.index import scan_dataset
from engine.errors import UserError
from engine.data.stanford_dogs import prepare_stanford_dogs

BREEDS = ("n02085620-Chihuahua", "n02099601-golden_retriever", "n02086240-Shih-Tzu",
          "n02088364-beagle")


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if data else None)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    """A miniature images.tar: Images/<synset>-<Breed>/<synset>_<n>.jpg, 6 per breed."""
    path = tmp_path_factory.mktemp("dogs") / "images.tar"
    with tarfile.open(path, "w") as tar:
        _add(tar, "Images", type=tarfile.DIRTYPE)
        for k, breed in enumerate(BREEDS):
            _add(tar, f"Images/{breed}", type=tarfile.DIRTYPE)
            for i in range(6):
                _add(tar, f"Images/{breed}/{breed[:9]}_{i}.jpg", jpeg_bytes(10 * k + i))
    return path


def _unsafe_archive(folder: Path, bad: str, **attrs) -> Path:
    path = folder / "evil.tar"
    with tarfile.open(path, "w") as tar:
        for i in range(3):
            _add(tar, f"Images/{BREEDS[0]}/x_{i}.jpg", jpeg_bytes(i))
            _add(tar, f"Images/{BREEDS[1]}/y_{i}.jpg", jpeg_bytes(10 + i))
        _add(tar, bad, b"owned" if not attrs else b"", **attrs)
    return path


def test_prepares_a_split_folder_dataset(archive, tmp_path):
    lines = []
    summary = prepare_stanford_dogs(archive, num_classes=3, output=tmp_path / "dogs", seed=1,
                                    log=lines.append)
    index = scan_dataset(tmp_path / "dogs")
    assert index.layout == "split-folders" and not index.problems
    assert len(index.classes) == 3 and "3 breeds" in summary and "seed 1" in summary
    for counts in index.counts().values():
        assert counts == {"train": 4, "val": 1, "test": 1}
    assert {c.folder for c in index.classes} <= {b.split("-", 1)[1] for b in BREEDS}
    assert any("Chosen 3 breeds" in line for line in lines)
    assert not (tmp_path / "dogs.partial").exists()


def test_breed_choice_is_reproducible_and_seeded(archive, tmp_path):
    def chosen(seed: int, name: str) -> set[str]:
        prepare_stanford_dogs(archive, num_classes=2, output=tmp_path / name, seed=seed,
                              log=lambda _: None)
        return {c.folder for c in scan_dataset(tmp_path / name).classes}

    assert chosen(5, "a") == chosen(5, "b")
    assert len({frozenset(chosen(s, f"s{s}")) for s in range(6)}) > 1


def test_explicit_breeds_by_any_name(archive, tmp_path):
    prepare_stanford_dogs(archive, output=tmp_path / "d", breeds=["chihuahua", "golden retriever",
                                                                   "n02088364-beagle"],
                          log=lambda _: None)
    index = scan_dataset(tmp_path / "d")
    assert index.class_names == ["beagle", "Chihuahua", "golden retriever"]
    with pytest.raises(UserError, match="not in the archive: poodle"):
        prepare_stanford_dogs(archive, output=tmp_path / "e", breeds=["poodle"], log=print)


@pytest.mark.parametrize("bad, attrs, words", [
    ("../escaped.jpg", {}, "'..' in the path"),
    ("Images/../../escaped.jpg", {}, "'..' in the path"),
    ("/tmp/lora_absolute_escape.jpg", {}, "absolute path"),
    ("Images/n02085620-Chihuahua/link.jpg", {"type": tarfile.SYMTYPE, "linkname": "/etc/passwd"},
     "a link"),
])
def test_unsafe_archives_are_refused_before_writing_anything(tmp_path, bad, attrs, words):
    archive = _unsafe_archive(tmp_path, bad, **attrs)
    out = tmp_path / "work" / "out"
    with pytest.raises(UserError, match="unsafe") as exc:
        prepare_stanford_dogs(archive, num_classes=2, output=out, log=print)
    assert words in str(exc.value) and "Nothing was extracted" in str(exc.value)
    assert not out.exists() and not (tmp_path / "escaped.jpg").exists()
    assert not Path("/tmp/lora_absolute_escape.jpg").exists()


def test_user_mistakes_are_explained(archive, tmp_path):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep me")
    with pytest.raises(UserError, match="not empty"):
        prepare_stanford_dogs(archive, output=tmp_path / "full", log=print)
    assert (tmp_path / "full" / "x.txt").read_text() == "keep me"
    with pytest.raises(UserError, match="between 2 and 4"):
        prepare_stanford_dogs(archive, num_classes=10, output=tmp_path / "o", log=print)
    with pytest.raises(UserError, match="not found"):
        prepare_stanford_dogs(tmp_path / "nope.tar", output=tmp_path / "o", log=print)
    (tmp_path / "fake.tar").write_bytes(b"not a tar at all" * 100)
    with pytest.raises(UserError, match="not a tar archive"):
        prepare_stanford_dogs(tmp_path / "fake.tar", output=tmp_path / "o", log=print)
    other = tmp_path / "other.tar"
    with tarfile.open(other, "w") as tar:
        _add(tar, "photos/cat.jpg", jpeg_bytes(0))
    with pytest.raises(UserError, match="Stanford Dogs images.tar"):
        prepare_stanford_dogs(other, output=tmp_path / "o", log=print)


def main(argv: list[str]) -> int:
    return cli.main(argv)


def test_cli_prepare_and_refusal(archive, tmp_path, capsys):
    out = tmp_path / "data" / "dogs"
    code = main(["prepare-stanford-dogs", "--archive", str(archive), "--classes", "2",
                 "--output", str(out), "--seed", "3"])
    assert code == 0 and "Prepared 2 breeds" in capsys.readouterr().out
    assert main(["scan", str(out)]) == 0
    evil = _unsafe_archive(tmp_path, "../../escaped.jpg")
    assert main(["prepare-stanford-dogs", "--archive", str(evil), "--output",
                 str(tmp_path / "x")]) == 2
    assert "error: Refusing" in capsys.readouterr().err
