"""`gallery-gql seed`: deterministic synthetic data, bulk-loaded into an empty database.

The distributions (no database): `streams` (seeded generators, chunks, the calendar),
`users`, `tags` (the DAG; Genonaut's tags), `zipf_tags` (the long tail), `items`, `links`,
`text`; `plan` turns a `SeedPlan` into a `Dataset`. The load: `database` (emptiness,
indexes and foreign keys set aside), `loaders` (records), `junction` (binary COPY), and
`run.seed_database`, the entry point.
"""
