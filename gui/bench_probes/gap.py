"""Longest event-loop gap while a real run streams events; prints BENCH_GAPS {json}."""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from engine.config import TrainConfig
app = QApplication(sys.argv[:1])
from gui.main_window import MainWindow
window = MainWindow()
window.show()
window.tabs.setCurrentWidget(window.training_tab)
config = TrainConfig.from_dict(json.loads(sys.argv[1]))
ticks, steps = [], []
timer = QTimer()
timer.setInterval(5)
timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
events = []
def on_event(ev):
    now = time.perf_counter()
    events.append((now, ev.kind))
    if ev.kind == "step":
        steps.append(now)
def gap_stats(t):
    gaps = sorted(b - a for a, b in zip(t, t[1:]))
    if not gaps:
        return None, None
    return round(1000 * gaps[-1], 1), round(1000 * gaps[int(0.99 * (len(gaps) - 1))], 1)
def finished(run_dir, status):
    timer.stop()
    streaming = [t for t in ticks if steps and steps[0] <= t <= steps[-1]]
    out = {"status": status, "steps": len(steps), "ticks": len(ticks),
           "duration_s": round(ticks[-1] - ticks[0], 2) if ticks else None,
           "streaming_s": round(steps[-1] - steps[0], 2) if steps else None}
    out["max_gap_ms"], out["p99_gap_ms"] = gap_stats(streaming)
    if len(streaming) > 1:  # which events the GUI thread handled inside the longest gap
        a, b = max(zip(streaming, streaming[1:]), key=lambda p: p[1] - p[0])
        out["events_in_max_gap"] = sorted({k for t, k in events if a <= t <= b})
    out["whole_run_max_gap_ms"], out["whole_run_p99_gap_ms"] = gap_stats(ticks)
    print("BENCH_GAPS " + json.dumps(out), flush=True)
    app.exit(0)
window.training_tab.run_finished.connect(finished)
def start():
    if not window.training_tab.start(config):
        print("BENCH_GAPS " + json.dumps({"status": "not started"}), flush=True)
        app.exit(1)
        return
    window.training_tab.worker.event_received.connect(on_event)
    timer.start()
QTimer.singleShot(200, start)
QTimer.singleShot(int(float(sys.argv[2]) * 1000), lambda: app.exit(3))
sys.exit(app.exec())
