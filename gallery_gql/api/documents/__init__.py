"""GraphQL documents known before they arrive: the trusted manifest, the automatic
persisted queries clients register, and documents compiled once into a plan."""
