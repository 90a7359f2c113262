"""gallery-gql: a fast, correct GraphQL gateway for a gallery of generated images."""

__version__ = "0.1.0"
