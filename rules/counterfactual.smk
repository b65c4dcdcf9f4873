# (filled in by the counterfactual part of the workflow)
