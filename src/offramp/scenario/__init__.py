"""The scenario language: parameters with units and sources, the schema, the safe loader (errors
with file:line and field path), the small condition language, and the built-in scenarios
(`builtin/`)."""
