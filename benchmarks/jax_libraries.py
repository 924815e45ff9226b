"""Issue 18: one short training run (PPO, CEM; 8,192 env steps, 1 seed) on each JAX env library through its adapter:

    /work/venv-3p/bin/python benchmarks/jax_libraries.py navix:Navix-Empty-5x5-v0 jumanji:Snake-v1 craftax:Craftax-Classic-Symbolic-v1
"""
import time, sys
import numpy as np
from rlcheck import registry
from rlcheck.envs import make_env
from rlcheck.core.budget import Budget
from rlcheck.engine.runner import run_method
for name in sys.argv[1:]:
    t = time.time()
    try:
        env = make_env(name)
    except Exception as e:
        print(name, "ERROR", type(e).__name__, e, flush=True); continue
    print(name, "obs", env.obs_shape, "actions", env.num_actions, "limit", env.max_episode_steps, type(env.env).__name__, f"{time.time()-t:.1f}s", flush=True)
    for m in ["ppo", "cem"]:
        t = time.time()
        method = registry.get_method(m)
        try:
            cfg = registry.default_config(method, env, {})
            r = run_method(method, env, [cfg], [0], Budget(8192, 2, 2))
            print(" ", m, "steps", r.trace.env_steps[0], "eval", r.trace.eval_returns.mean(-1)[0], f"{time.time()-t:.1f}s", flush=True)
        except Exception as e:
            import traceback; traceback.print_exc()
            print(" ", m, "ERROR", type(e).__name__, str(e)[:300], flush=True)
