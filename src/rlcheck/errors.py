"""User-facing errors: one paragraph that names the problem and the fix."""


class RLCheckError(Exception):
    """Bad input or an impossible request. The CLI prints the message, no traceback."""
