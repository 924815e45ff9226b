"""rlcheck: can deep RL solve this problem, and how reliably?

Data flows one way: env -> method -> trace -> store -> analysis -> report.
"""

__version__ = "0.1.0"
