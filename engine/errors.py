"""Errors meant for the user: their message says what happened and what to do next."""


class UserError(Exception):
    """A problem with the user's input (folder, config, run), not a bug."""
