"""Query root resolvers, one module per domain area."""
