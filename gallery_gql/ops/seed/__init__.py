"""`gallery-gql seed`: deterministic synthetic data, bulk-loaded into an empty database."""
