"""Historical battle data shipped with offramp (CSV tables; see PROVENANCE.md in this folder).

A package so that `importlib.resources.files("offramp.data")` finds the files in an installed
wheel as well as in a source checkout.
"""
