"""offramp: a lab for war-termination strategy.

It explores the consequences of stated assumptions across many sampled futures; it does not
forecast.
"""

from offramp.errors import UserError

__version__ = "0.1.0"

__all__ = ["UserError", "__version__"]
