"""What a person reads: the scenario explanation, comparison tables, the HTML report."""
