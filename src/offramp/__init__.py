"""offramp: a lab for war-termination strategy.

It explores the consequences of stated assumptions across many sampled futures; it does not
forecast. The notebook API (`offramp.run`, `offramp.open_run`, `offramp.search`) is imported
on first use, so `import offramp` stays light.
"""

from offramp.errors import UserError

__version__ = "0.1.0"

__all__ = ["UserError", "__version__", "run", "open_run", "search", "Run"]


def __getattr__(name: str):
    if name in ("run", "open_run", "search", "Run"):
        from offramp import api

        return getattr(api, name)
    raise AttributeError(f"module 'offramp' has no attribute {name!r}")
