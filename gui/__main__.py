"""`python -m gui` starts the desktop app (same as the `lora-studio` command)."""
import sys

from gui.app import main

sys.exit(main())
