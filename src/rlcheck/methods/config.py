from rlcheck.core.config import *  # noqa: F401,F403  (temporary: removed once every method imports rlcheck.core.config)
from rlcheck.core.config import _plain  # noqa: F401
