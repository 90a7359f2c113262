"""`gallery-gql bench`: the query mix, the approaches compared, and the report."""
