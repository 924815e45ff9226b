"""User-facing errors: one paragraph that names the problem and the fix, and the CLI's exit code.

Exit codes (documented in the README): 0 ok, 1 error (store, internal), 2 usage (flags, specs,
hyper-parameters), 3 the environment could not be made or failed preflight, 4 the study ran but some
jobs failed or diverged, 130 interrupted by Ctrl-C, 143 terminated by SIGTERM."""

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_ENV, EXIT_JOBS = 0, 1, 2, 3, 4
EXIT_INTERRUPTED, EXIT_TERMINATED = 130, 143  # Ctrl-C, SIGTERM (128 + the signal's number)


class RLCheckError(Exception):
    """Bad input or an impossible request. The CLI prints the message, no traceback."""

    exit_code = EXIT_USAGE


class EnvError(RLCheckError):
    """The environment cannot be resolved, made or used (exit code 3)."""

    exit_code = EXIT_ENV


class StoreError(RLCheckError):
    """The study directory cannot be written, is locked by another run, or holds no study (exit code 1)."""

    exit_code = EXIT_ERROR


class ExportError(RLCheckError):
    """A TensorBoard, W&B or MLflow export failed; the study's store is untouched (exit code 1)."""

    exit_code = EXIT_ERROR


class NotApplicable(RLCheckError):
    """This method cannot run on this env (wrong action space, no copyable state, a missing extra, ...).
    A default study skips such a method and says why."""
