from gallery_gql.cli import main

main()
