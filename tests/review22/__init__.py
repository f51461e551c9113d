"""Hostile review 22: PostgreSQL batches in pipelines (commits bef5551, 474c0c9)."""
