# (filled in by the saliency part of the workflow)
