# (filled in by the summarize part of the workflow)
