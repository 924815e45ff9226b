"""Issue 18: the share of its budget a policy-search baseline uses, on episodes shorter and longer than
the 500 steps the old schedule assumed. Run it with the code to measure on the path:

    python benchmarks/search_budget.py                                   # this checkout
    PYTHONPATH=/tmp/wt-before/src python benchmarks/search_budget.py     # another commit's checkout

(`git worktree add /tmp/wt-before <commit>` makes one). Prints one line per env and method.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # user_envs: the Countdown env

from rlcheck import registry  # noqa: E402
from rlcheck.core.budget import Budget  # noqa: E402
from rlcheck.engine.runner import run_method  # noqa: E402
from rlcheck.envs import make_env  # noqa: E402

CASES = [("user_envs:Countdown", {"end": 3}, 8_000), ("user_envs:Countdown", {"end": 1000}, 8_000),
         ("LunarLander-v3", None, 50_000)]

for name, kwargs, budget in CASES:
    env = make_env(name, kwargs)
    for method_name in ("ars", "cem", "cmaes"):
        method = registry.get_method(method_name)
        result = run_method(method, env, [registry.default_config(method, env, {})], [0], Budget(budget, 4, 2))
        used = int(result.trace.env_steps[0, -1])
        print(f"{name} {kwargs or ''} budget {budget:,}: {method_name} used {used:,} ({used / budget:.1%})", flush=True)
