# (filled in by the crowd part of the workflow)
