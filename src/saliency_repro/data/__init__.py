"""Data layer: sources (synthetic, local, url, huggingface) normalized to per-split parquet."""
