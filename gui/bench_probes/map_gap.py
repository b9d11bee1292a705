"""The map of N generated embeddings in the real window: seconds until the first (PCA)
layout and the final (t-SNE) one are shown, and the longest event-loop gap meanwhile;
prints BENCH_MAP {json}. argv: N, seed, timeout seconds."""
import json, sys, time
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from engine.bench.sections_map import CLUSTERS, clustered_embeddings
from gui.main_window import MainWindow
from engine.libraries import ready
ready()  # what the window's warm-up does in the background after start: a user asks for
# the map once it is done (it is measured on its own, in the start-up section)
n, seed, limit = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
window = MainWindow()
window.resize(1360, 860)
window.show()
tab = window.dataset_tab
window.show_tab(tab)
vectors, clusters = clustered_embeddings(n, seed)
names = [f"class {c + 1}" for c in range(CLUSTERS)]
paths = [f"/generated/{i:06d}.jpg" for i in range(n)]
ticks, shown = [], []
timer = QTimer()
timer.setInterval(5)
timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
def gaps(t):
    g = sorted(b - a for a, b in zip(t, t[1:]))
    return (round(1000 * g[-1], 1), round(1000 * g[int(0.99 * (len(g) - 1))], 1)) if g else (None, None)
def on_layout(_xy, final):
    shown.append((time.perf_counter(), final))
    if final:
        QTimer.singleShot(100, finish)
def finish():
    timer.stop()
    t0 = start[0]
    out = {"points": n, "first_layout_s": round(shown[0][0] - t0, 2),
           "final_layout_s": round(shown[-1][0] - t0, 1), "layouts_shown": len(shown),
           "ticks": len(ticks)}
    out["max_gap_ms"], out["p99_gap_ms"] = gaps(ticks)
    worst = sorted(zip(ticks, ticks[1:]), key=lambda p: p[0] - p[1])[:3]  # where they were
    out["worst_gaps_at_s"] = [[round(a - t0, 2), round(1000 * (b - a))] for a, b in worst]
    out["layouts_at_s"] = [round(t - t0, 2) for t, _f in shown][:4]
    print("BENCH_MAP " + json.dumps(out), flush=True)
    app.exit(0)
tab.map_flow.layout_ready.connect(on_layout)
start = []
def go():
    timer.start()
    start.append(time.perf_counter())
    tab.map_page.show_points(paths, vectors, [names[c] for c in clusters], names)
    tab.pages.setCurrentWidget(tab.map_page)
QTimer.singleShot(300, go)
QTimer.singleShot(int(limit * 1000), lambda: (print("BENCH_MAP " + json.dumps({"status": "timed out"}), flush=True), app.exit(3)))
code = app.exec()
window.shutdown()
sys.exit(code)
