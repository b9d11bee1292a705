"""Generate a dataset folder full of the broken and unusual files users really have.

`make_broken_corpus(root)` writes root/cats and root/dogs (each with enough good images
to train on) plus one file per bad-input case, and returns what a scan must say about
each: {relative path: expected words in the problem reason}, and the lists of odd but
usable files (EXIF-rotated, non-RGB modes, non-ASCII names) and of silently ignored
litter. Everything is generated: no binary fixtures in the repository.
"""
from __future__ import annotations

import io
import os
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image


def noisy_image(seed: int, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> Image.Image:
    """A random-noise image (noise keeps JPEGs from being tiny, and each seed distinct)."""
    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    return Image.fromarray(arr, "RGB").convert(mode) if mode != "RGB" else Image.fromarray(arr)


def jpeg_bytes(seed: int, size: tuple[int, int] = (64, 48), **save) -> bytes:
    buf = io.BytesIO()
    noisy_image(seed, size).save(buf, "JPEG", quality=90, **save)
    return buf.getvalue()


def bomb_png(width: int = 100_000, height: int = 100_000) -> bytes:
    """A tiny valid PNG whose header claims width x height pixels (a decompression bomb)."""
    buf = io.BytesIO()
    Image.new("1", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    # IHDR chunk data starts at byte 16 (8-byte signature + 4 length + 4 type)
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def exif_rotated_jpeg(seed: int, size: tuple[int, int] = (64, 32), orientation: int = 6) -> bytes:
    """A landscape JPEG tagged "rotate 90°": shown (and decoded) as portrait."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return jpeg_bytes(seed, size, exif=exif.tobytes())


@dataclass
class Corpus:
    root: Path
    bad: dict[str, str] = field(default_factory=dict)  # rel path -> words the reason contains
    usable_odd: list[str] = field(default_factory=list)  # unusual but must be used
    ignored: list[str] = field(default_factory=list)  # litter: skipped without a warning
    good_per_class: int = 0


def _write(root: Path, rel: str, data: bytes) -> str:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return rel


def _png(img: Image.Image, **save) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", **save)
    return buf.getvalue()


def make_broken_corpus(root: str | Path, good_per_class: int = 4) -> Corpus:
    root = Path(root)
    c = Corpus(root, good_per_class=good_per_class)
    for k, cls in enumerate(("cats", "dogs")):
        for i in range(good_per_class):
            _write(root, f"{cls}/good_{i}.jpg", jpeg_bytes(100 * k + i))
    whole = jpeg_bytes(7)
    c.bad[_write(root, "cats/empty.jpg", b"")] = "empty file"
    c.bad[_write(root, "cats/truncated.jpg", whole[: len(whole) // 2])] = "truncated"
    c.bad[_write(root, "cats/cut_end.jpg", whole[:-2])] = "truncated"
    c.bad[_write(root, "cats/notes.jpg", b"this is not a picture\n" * 20)] = "not a picture"
    c.bad[_write(root, "cats/readme.txt", b"hello")] = "not a supported image type"
    c.bad[_write(root, "cats/phone.heic", b"\x00\x00\x00\x18ftypheic")] = "HEIC"
    c.bad[_write(root, "dogs/bomb.png", bomb_png())] = "decompression bomb"
    c.bad[_write(root, "dogs/big_bomb.png", bomb_png(8000, 8000))] = "decompression bomb"
    c.bad[_write(root, "dogs/tiny.png", _png(Image.new("RGB", (1, 1), "red")))] = "too small"
    c.bad[_write(root, "dogs/copy_of_cat.jpg", jpeg_bytes(0))] = "conflicting labels"
    c.bad[_write(root, "dogs/good_1_copy.jpg", jpeg_bytes(101))] = "duplicate of"
    c.usable_odd += [
        _write(root, "dogs/rotated.jpg", exif_rotated_jpeg(11)),
        _write(root, "cats/gray.png", _png(noisy_image(12, mode="L"))),
        _write(root, "cats/cmyk.jpg", _cmyk_jpeg(13)),
        _write(root, "cats/rgba.png", _png(noisy_image(14, mode="RGBA"))),
        _write(root, "dogs/palette.png", _png(noisy_image(15, mode="P"))),
        _write(root, "dogs/palette_transparent.gif", _gif_with_transparency(16)),
        _write(root, "dogs/gray16.png", _png(_gray16(17))),
        _write(root, "dogs/chien_été_狗.jpg", jpeg_bytes(18)),
        _write(root, "cats/nested/deeper/whiskers.jpg", jpeg_bytes(19)),
    ]
    c.ignored += [
        _write(root, "cats/.DS_Store", b"\x00\x00\x00\x01Bud1"),
        _write(root, "cats/Thumbs.db", b"\xd0\xcf\x11\xe0"),
        _write(root, "dogs/desktop.ini", b"[.ShellClassInfo]"),
        _write(root, "dogs/._good_0.jpg", b"\x00\x05\x16\x07AppleDouble"),
        _write(root, "__MACOSX/cats/._good_1.jpg", b"\x00\x05\x16\x07"),
        _write(root, ".hidden_class/secret.jpg", jpeg_bytes(20)),
    ]
    if _symlinks_work(root):
        os.symlink("../cats", root / "cats" / "loop_to_self")  # directory loop
        os.symlink("..", root / "dogs" / "loop_to_root")  # loop back to the dataset root
        os.symlink("self_loop.jpg", root / "dogs" / "self_loop.jpg")  # a link to itself
        os.symlink("gone.jpg", root / "dogs" / "dangling.jpg")
        c.bad["cats/loop_to_self"] = "symlink loop"
        c.bad["dogs/loop_to_root"] = "symlink loop"
        c.bad["dogs/self_loop.jpg"] = "symlink loop"
        c.bad["dogs/dangling.jpg"] = "broken link"
    return c


def _cmyk_jpeg(seed: int) -> bytes:
    buf = io.BytesIO()
    noisy_image(seed, mode="CMYK").save(buf, "JPEG")
    return buf.getvalue()


def _gif_with_transparency(seed: int) -> bytes:
    img = noisy_image(seed, mode="P")
    buf = io.BytesIO()
    img.save(buf, "GIF", transparency=0)
    return buf.getvalue()


def _gray16(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 65535, (48, 64), dtype=np.uint16))


def _symlinks_work(folder: Path) -> bool:
    probe = folder / ".symlink_probe"
    try:
        os.symlink("x", probe)
        probe.unlink()
        return True
    except (OSError, NotImplementedError):
        return False


def snapshot(root: str | Path) -> dict[str, tuple]:
    """Content hash, size and mtime of every file and link under root (links not followed)."""
    import hashlib

    state: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            if os.path.islink(path):
                state[path] = ("link", os.readlink(path), st.st_mtime_ns)
            elif os.path.isfile(path):
                digest = hashlib.blake2b(Path(path).read_bytes(), digest_size=16).hexdigest()
                state[path] = ("file", digest, st.st_size, st.st_mtime_ns)
            else:
                state[path] = ("dir", st.st_mtime_ns)
    return state
