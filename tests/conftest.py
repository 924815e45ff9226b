import atexit
import os
import shutil
import sys
import tempfile

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))

# One compilation cache for the whole run, shared with the CLI subprocesses and left nowhere afterwards:
# the tests compile many identical programs, and none of them should read or fill the user's own cache.
if "RLCHECK_COMPILE_CACHE" not in os.environ:
    os.environ["RLCHECK_COMPILE_CACHE"] = tempfile.mkdtemp(prefix="rlcheck-test-compile-cache-")
    atexit.register(shutil.rmtree, os.environ["RLCHECK_COMPILE_CACHE"], True)

# Property-based tests: a fixed, derandomised example budget in CI (the same examples every run, so a
# failure reproduces); `benchmarks/fuzz.py` runs the long, random profile (HYPOTHESIS_PROFILE=long).
settings.register_profile("ci", max_examples=40, derandomize=True, deadline=None, print_blob=True)
settings.register_profile("long", max_examples=int(os.environ.get("RLCHECK_FUZZ_EXAMPLES", 1500)), deadline=None,
                          print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
