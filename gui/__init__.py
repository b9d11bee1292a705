"""LoRA Studio's desktop front end (PySide6 + pyqtgraph). The engine never imports it."""
