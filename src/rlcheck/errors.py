from rlcheck.core.errors import *  # noqa: F401,F403  (temporary: removed once every module imports rlcheck.core.errors)
