"""HTTP concerns in front of the GraphQL endpoint."""
