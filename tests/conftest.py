import os
import sys

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))

# Property-based tests: a fixed, derandomised example budget in CI (the same examples every run, so a
# failure reproduces); `benchmarks/fuzz.py` runs the long, random profile (HYPOTHESIS_PROFILE=long).
settings.register_profile("ci", max_examples=40, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=int(os.environ.get("RLCHECK_FUZZ_EXAMPLES", 1500)), deadline=None,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
