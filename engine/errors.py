"""Errors meant for the user: their message says what happened and what to do next.

Pure Python (no torch), so light modules such as engine.runs can raise them too.
"""


class UserError(Exception):
    """A problem with the user's input (folder, config, run), not a bug."""


class ModelLoadError(UserError, RuntimeError):
    """The base model or a run's model could not be loaded; the message says why and what to do."""


class DamagedRunError(ModelLoadError, ValueError):
    """A file of a run folder is truncated, empty, not in its format or does not fit the run.

    The message names the file. It is also a ValueError, the error run readers always raised
    for an unreadable run.json, so existing `except ValueError` callers keep working.
    """

    def __init__(self, message: str, path: str = ""):
        super().__init__(message)
        self.path = path
