# (filled in by the classify part of the workflow)
