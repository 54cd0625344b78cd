"""The base of every "bad input or setup" error: stages report it as one line, not a traceback."""


class UserError(Exception):
    """Something the user can fix; the message names the file (and line) or the parameter."""
