"""Pure DataFrame transforms of the jobs: DataFrames in, DataFrames out, no IO."""
