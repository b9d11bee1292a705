"""Time from process start to the main window being shown; prints BENCH_SHOWN {json}."""
import json, sys, time
marks = {"interpreter": time.time()}
import gui.main_window as mw  # PySide6, the tabs and widgets (gui.app.main imports them too)
marks["imports"] = time.time()
_init, _show = mw.MainWindow.__init__, mw.MainWindow.show
def init(self, *args, **kwargs):
    marks["qapplication"] = time.time()
    _init(self, *args, **kwargs)
    marks["window_built"] = time.time()
def show(self):
    _show(self)
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication
    def shown():
        marks["shown"] = time.time()
        marks["torch_imported"] = "torch" in sys.modules
        print("BENCH_SHOWN " + json.dumps(marks), flush=True)
        QApplication.instance().exit(0)
    QTimer.singleShot(0, shown)
mw.MainWindow.__init__, mw.MainWindow.show = init, show
from gui.app import main
sys.exit(main([]))
