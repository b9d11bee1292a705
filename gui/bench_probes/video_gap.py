"""A video playing in the Prediction tab's live page of the real window: the classified
frames/s, the shown frames/s, frames dropped, and the longest event-loop gap while it
plays; prints BENCH_VIDEO_GUI {json}. argv: run dir, video file, backend, timeout seconds.
"""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from gui.main_window import MainWindow
from engine.libraries import ready
ready()  # the window's start-up imports, done before a user would press play
run_dir, video, backend, limit = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
window = MainWindow()
window.resize(1360, 860)
window.show()
tab = window.prediction_tab
window.show_tab(tab)
flow = tab.live
ticks, results, state = [], [], {}
timer = QTimer()
timer.setInterval(5)
timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
def gaps(t):
    g = sorted(b - a for a, b in zip(t, t[1:]))
    return (round(1000 * g[-1], 1), round(1000 * g[int(0.99 * (len(g) - 1))], 1)) if g else (None, None)
def finish(status):
    timer.stop()
    t0, end = state.get("t0"), time.perf_counter()
    threads = state.get("threads")
    out = {"status": status, "backend": getattr(tab.service.predictor, "backend", backend),
           "played_s": round(end - t0, 2) if t0 else None, "ticks": len(ticks)}
    if threads:
        video_thread, classifier = threads
        played = max(1e-6, end - t0)
        out.update({"frames_decoded": video_thread.decoded, "frames_shown": video_thread.shown,
                    "frames_classified": classifier.count, "frames_dropped": flow.mailbox.dropped,
                    "classified_fps": round(classifier.count / played, 2),
                    "shown_fps": round(video_thread.shown / played, 2),
                    "ms_per_frame": round(1000 * sorted(r.seconds for r in results)[len(results) // 2], 1)
                    if results else None})
    out["max_gap_ms"], out["p99_gap_ms"] = gaps(ticks)
    print("BENCH_VIDEO_GUI " + json.dumps(out), flush=True)
    flow.stop()
    app.exit(0 if status == "completed" else 3)
def on_loaded(_run):
    flow.result_shown.connect(results.append)
    flow.open_video(video)
    if not flow.running:
        print("BENCH_VIDEO_GUI " + json.dumps({"status": "not started", "message": tab.message.text()}), flush=True)
        app.exit(1)
        return
    state["t0"], state["threads"] = time.perf_counter(), (flow.video, flow.classifier)
    timer.start()
    flow.video.ended.connect(lambda: finish("completed"))
tab.run_opened.connect(on_loaded)
tab.service.run_failed.connect(lambda _r, m: (print("BENCH_VIDEO_GUI " + json.dumps({"status": "failed", "message": m}), flush=True), app.exit(2)))
tab.service.set_backend(backend)
QTimer.singleShot(200, lambda: tab.open_run(run_dir))
QTimer.singleShot(int(limit * 1000), lambda: finish("timed out"))
code = app.exec()
window.shutdown()
sys.exit(code)
