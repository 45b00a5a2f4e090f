"""The mechanisms of the model, one module each, each a pure weekly `step` over arrays of futures.

`offramp.engine.model.simulate` fixes their order; docs/model.md gives their equations, parameters
and sources.
"""
