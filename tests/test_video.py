"""Reading video files (engine.use.video) and `predict` on a video (engine.use.video_predict).

The clips are generated with PyAV (engine.demo.video): 64x64, 10 fps, solid-colour segments
that change at known times, so every timestamp and every label has a known right answer.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.demo.video import make_demo_video
from engine.errors import UserError
from engine.use.video import VIDEO_SUFFIXES, is_video, open_video, parse_every

RED, GREEN, BLUE = (215, 40, 40), (40, 170, 60), (40, 80, 220)
SEGMENTS = ((1.5, RED), (1.0, GREEN), (1.0, BLUE))  # 3.5 s: green from 1.5 s, blue from 2.5 s


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return make_demo_video(tmp_path_factory.mktemp("video") / "clip.mp4", SEGMENTS)


def _colour(image) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.asarray(image).reshape(-1, 3).mean(0).round())


def _near(a, b, tolerance=12) -> bool:
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


@pytest.mark.parametrize("codec, suffix", [("mpeg4", ".mp4"), ("libx264", ".mp4"),
                                           ("mjpeg", ".avi"), ("libvpx", ".webm"),
                                           ("mpeg4", ".mkv")])
def test_every_frame_has_its_timestamp_and_picture(tmp_path, codec, suffix):
    path = make_demo_video(tmp_path / f"clip{suffix}", SEGMENTS, codec=codec)
    with open_video(path) as video:
        assert (video.width, video.height, video.fps) == (64, 64, 10.0)
        assert video.duration == pytest.approx(3.5, abs=0.11)
        assert video.frame_count == 35
        frames = list(video.frames())
    assert [f.index for f in frames] == list(range(35))
    assert [f.time for f in frames] == pytest.approx([n / 10 for n in range(35)], abs=1e-3)
    assert all(f.image.mode == "RGB" and f.image.size == (64, 64) for f in frames)
    expected = [RED] * 15 + [GREEN] * 10 + [BLUE] * 10
    assert all(_near(_colour(f.image), rgb) for f, rgb in zip(frames, expected))
    assert video.skipped == 0


def test_every_samples_the_first_frame_at_or_after_each_multiple(clip):
    with open_video(clip) as video:
        half = [(f.index, f.time) for f in video.frames(every=0.5)]
        odd = [(f.index, round(f.time, 3)) for f in video.frames(every=0.35)]
        late = [(f.index, round(f.time, 3)) for f in video.frames(every=1.0, start=1.2)]
        slow = [f.index for f in video.frames(every=0.05)]  # faster than the frames: each once
    assert half == [(n * 5, pytest.approx(n * 0.5, abs=1e-6)) for n in range(7)]
    # 0.35 s multiples: 0, .35, .7, 1.05, 1.4, ... -> the first frame at or after each
    assert odd == [(0, 0.0), (4, 0.4), (7, 0.7), (11, 1.1), (14, 1.4), (18, 1.8), (21, 2.1),
                   (25, 2.5), (28, 2.8), (32, 3.2)]
    assert late == [(20, 2.0), (30, 3.0)]  # after a seek the index still counts from 0
    assert slow == list(range(35))


def test_a_frame_that_fails_to_decode_is_skipped_and_counted(tmp_path):
    import av

    path = tmp_path / "damaged.avi"
    make_demo_video(path, SEGMENTS, codec="mjpeg")
    with av.open(str(path)) as source, av.open(str(tmp_path / "out.avi"), "w") as target:
        stream = target.add_stream_from_template(source.streams.video[0])
        for n, packet in enumerate(source.demux(source.streams.video[0])):
            if packet.size == 0:
                continue
            if n in (12, 13):  # two frames whose data is garbage
                garbage = av.Packet(b"\xff\xd8 not a picture" * 20)
                garbage.pts, garbage.dts, garbage.time_base = packet.pts, packet.dts, \
                    packet.time_base
                packet = garbage
            packet.stream = stream
            target.mux(packet)
    with open_video(tmp_path / "out.avi") as video:
        frames = list(video.frames())
        assert video.skipped == 2
        assert [f.index for f in frames] == [n for n in range(35) if n not in (12, 13)]
        assert [f.index for f in video.frames(every=0.5)] == [0, 5, 10, 15, 20, 25, 30]
        sampled = list(video.frames(every=0.6))  # 1.2 s falls on a broken frame: 1.4 instead
        assert [f.index for f in sampled] == [0, 6, 14, 18, 24, 30]


def test_bad_files_get_plain_messages(tmp_path, clip):
    text = tmp_path / "notes.mp4"
    text.write_text("meeting notes, not a video\n" * 20, encoding="utf-8")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # index at the end: lost
    empty = tmp_path / "empty.mov"
    empty.write_bytes(b"")
    cases = {text: "not a video this app can read", cut: "incomplete or damaged",
             empty: "not a video this app can read",
             tmp_path / "gone.mp4": "not found", tmp_path: "is a folder"}
    for path, words in cases.items():
        with pytest.raises(UserError, match=words) as caught:
            open_video(path)
        assert "Errno" not in str(caught.value) and "Traceback" not in str(caught.value)


def test_a_video_cut_short_mid_stream_gives_the_frames_before_the_cut(tmp_path):
    whole = make_demo_video(tmp_path / "whole.mkv", SEGMENTS)  # Matroska: index up front
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size * 2 // 3])
    with open_video(cut) as video:
        frames = list(video.frames())
    assert 5 <= len(frames) < 35
    assert [f.index for f in frames] == list(range(len(frames)))


@pytest.mark.parametrize("rotation, corner", [(90, "bottom-left"), (-90, "top-right"),
                                              (180, "bottom-right"), (0, "top-left")])
def test_a_phone_video_comes_upright_as_a_player_shows_it(tmp_path, rotation, corner):
    """A phone stores a portrait video sideways (64x32 here) with a rotation in its display
    matrix; the frames come out turned counterclockwise by it, as FFmpeg's players show them:
    the white mark in the stored top-left corner lands where a player draws it."""
    import av

    path = tmp_path / "phone.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 64, 32, "yuv420p"
        stream.set_display_rotation(rotation)
        for _ in range(3):
            pixels = np.zeros((32, 64, 3), np.uint8)
            pixels[:12, :12] = 255
            for packet in stream.encode(av.VideoFrame.from_ndarray(pixels, "rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    with open_video(path) as reader:
        frames = list(reader.frames())
    assert len(frames) == 3
    image = np.asarray(frames[0].image.convert("L"), dtype=np.float32)
    assert image.shape == ((32, 64) if rotation in (0, 180) else (64, 32))
    h, w = image.shape
    corners = {"top-left": image[:6, :6], "top-right": image[:6, w - 6:],
               "bottom-left": image[h - 6:, :6], "bottom-right": image[h - 6:, w - 6:]}
    assert {name for name, patch in corners.items() if patch.mean() > 200} == {corner}


@pytest.mark.parametrize("text, seconds", [("0.5s", 0.5), ("0.5", 0.5), ("500ms", 0.5),
                                           ("2 fps", 0.5), ("2FPS", 0.5), ("1min", 60.0),
                                           (" 3 s ", 3.0), (1.5, 1.5)])
def test_every_reads_seconds_milliseconds_and_rates(text, seconds):
    assert parse_every(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["0", "0s", "-1", "0fps", "abc", "", "1 hour", "inf", "nan",
                                  "1.2.3s"])
def test_bad_every_values_are_refused_plainly(text):
    with pytest.raises(UserError, match="positive number of seconds"):
        parse_every(text)


def test_videos_are_known_by_their_suffix():
    assert {".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"} <= VIDEO_SUFFIXES
    assert is_video("a/B.MP4") and is_video(Path("x.webm"))
    assert not is_video("photo.jpg") and not is_video("mp4")


# --- predict on videos: the command line end to end ----------------------------------------
@pytest.fixture(scope="module")
def colour_run(tmp_path_factory) -> Path:
    """A run whose predictions follow the picture's colour (tests/colour_encoder.py)."""
    from colour_encoder import make_colour_clip
    from run_factory import make_run

    from engine.demo.dataset import make_demo_dataset

    root = tmp_path_factory.mktemp("colour_run")
    data = make_demo_dataset(root / "data", num_classes=3, seed=2,
                             splits={"train": 8, "val": 4, "test": 4})
    return make_run(root / "runs" / "colours", make_colour_clip(root / "clip"), data,
                    nudge=False)


def _rows(path: Path) -> list[dict]:
    import csv

    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


EXPECTED_HALF_SECONDS = [("0.000", "0", "red circle"), ("0.500", "5", "red circle"),
                         ("1.000", "10", "red circle"), ("1.500", "15", "green square"),
                         ("2.000", "20", "green square"), ("2.500", "25", "blue triangle"),
                         ("3.000", "30", "blue triangle")]


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_predict_writes_a_timestamped_row_per_sampled_frame(colour_run, clip, tmp_path,
                                                            backend):
    from run_factory import run_cli

    out = tmp_path / "frames.csv"
    assert run_cli(["predict", str(colour_run), str(clip), "--every", "0.5s", "--output",
                    str(out), "--backend", backend, "--top-k", "2"]) == 0
    rows = _rows(out)
    assert list(rows[0]) == ["source", "time", "frame", "label", "best_guess", "confidence",
                             "not_sure", "low_confidence", "error", "label_2", "probability_2"]
    assert [(r["time"], r["frame"], r["label"]) for r in rows] == EXPECTED_HALF_SECONDS
    assert all(r["source"] == str(clip) and r["not_sure"] == "0" and r["error"] == ""
               for r in rows)
    assert all(float(r["confidence"]) >= float(r["probability_2"]) for r in rows)
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left beside it


def test_without_output_a_table_is_printed_and_the_default_is_one_second(colour_run, clip,
                                                                          capsys):
    from run_factory import run_cli

    assert run_cli(["predict", str(colour_run), str(clip), "--backend", "torch"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(clip)
    table = [line.split()[:6] for line in lines[1:]]
    assert [(t[0], t[3], " ".join(t[4:6])) for t in table] == [
        ("0.000", "0", "red circle"), ("1.000", "10", "red circle"),
        ("2.000", "20", "green square"), ("3.000", "30", "blue triangle")]


def test_videos_and_images_make_one_table_in_input_order(colour_run, clip, tmp_path):
    import json

    from run_factory import run_cli

    second = make_demo_video(tmp_path / "second.mkv", ((0.6, BLUE), (0.6, RED)))
    image = tmp_path / "photo.png"
    from PIL import Image

    Image.new("RGB", (48, 48), GREEN).save(image)
    out = tmp_path / "all.json"
    assert run_cli(["predict", str(colour_run), str(clip), str(image), str(second), "--every",
                    "600ms", "--output", str(out), "--backend", "torch"]) == 0
    rows = json.loads(out.read_text(encoding="utf-8"))
    assert [(Path(r["source"]).name, r["time"], r["frame"], r["label"]) for r in rows] == [
        ("clip.mp4", 0.0, 0, "red circle"), ("clip.mp4", pytest.approx(0.6), 6, "red circle"),
        ("clip.mp4", pytest.approx(1.2), 12, "red circle"),
        ("clip.mp4", pytest.approx(1.8), 18, "green square"),
        ("clip.mp4", pytest.approx(2.4), 24, "green square"),
        ("clip.mp4", pytest.approx(3.0), 30, "blue triangle"),
        ("photo.png", None, None, "green square"),
        ("second.mkv", 0.0, 0, "blue triangle"),
        ("second.mkv", pytest.approx(0.6), 6, "red circle")]


def test_bad_video_input_is_refused_plainly_and_writes_nothing(colour_run, clip, tmp_path,
                                                               capsys):
    from run_factory import run_cli

    text = tmp_path / "notes.mp4"
    text.write_text("not a video\n" * 30, encoding="utf-8")
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    out = tmp_path / "out" / "frames.csv"
    cases = [
        ([str(clip), str(text)], "not a video this app can read"),
        ([str(cut)], "incomplete or damaged"),
        ([str(clip), "--every", "0"], "not a time between frames"),
        ([str(clip), "--every", "soon"], "not a time between frames"),
        ([str(clip), "--explain", str(tmp_path / "maps")], "not for videos"),
    ]
    for extra, words in cases:
        assert run_cli(["predict", str(colour_run), *extra, "--output", str(out)]) == 2, extra
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert run_cli(["predict", str(colour_run), str(clip), "--output",
                    str(blocker / "frames.csv")]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert not out.parent.exists() and not (tmp_path / "maps").exists()


def test_a_failed_write_leaves_neither_a_partial_file_nor_the_old_one_changed(tmp_path,
                                                                             monkeypatch):
    from engine.use import video_predict
    from engine.use.predict import Prediction

    out = tmp_path / "frames.csv"
    out.write_text("earlier results\n", encoding="utf-8")
    rows = [video_predict.FramePrediction("clip.mp4", 0.0, 0, Prediction("clip.mp4", [("a", 1.0)]))]

    def disk_full(rows, tmp):
        tmp.write_text("source,time\nclip.mp4,", encoding="utf-8")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(video_predict, "_write_csv", disk_full)
    with pytest.raises(OSError):
        video_predict.export_frame_predictions(rows, out)
    assert out.read_text(encoding="utf-8") == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["frames.csv"]


def test_every_without_a_video_only_notes_it(colour_run, tmp_path, capsys):
    from PIL import Image

    from run_factory import run_cli

    image = tmp_path / "photo.png"
    Image.new("RGB", (48, 48), RED).save(image)
    assert run_cli(["predict", str(colour_run), str(image), "--every", "1s",
                    "--backend", "torch"]) == 0
    captured = capsys.readouterr()
    assert "--every is for videos" in captured.err and "red circle" in captured.out


def test_the_bench_video_section_measures_decoding_and_both_backends(colour_run, tmp_path):
    """The smoke plan on the colour run (the bench would train a short run first): every
    figure present (no speed is asserted: the machine is shared)."""
    from engine.bench.plan import PLANS, Context
    from engine.bench.sections_video import table, video

    ctx = Context(PLANS["smoke"], tmp_path, device="cpu", log=lambda message: None)
    ctx.shared["trained_run"] = str(colour_run)
    result = video(ctx)
    assert result["status"] == "ok" and result["clip"]["frames"] == 10
    assert result["decode_frames_per_s"] > 0 and result["classified_frames"] == 8
    from engine.use.backends import choose_backend

    assert set(result["rows"]) == {"torch", choose_backend("cpu")} and result["auto_for_this_run"]
    assert all(r["batch32_frames_per_s"] > 0 and r["live_frames_per_s"] > 0
               for r in result["rows"].values())
    assert 0 <= result["top1_agreement_fast_vs_torch"] <= 1
    printed = "\n".join(table(result))
    assert "**Video**" in printed and "Decoding alone" in printed
