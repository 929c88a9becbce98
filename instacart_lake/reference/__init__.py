"""Independent reference computations (DuckDB SQL) used by tests and benchmarks."""
