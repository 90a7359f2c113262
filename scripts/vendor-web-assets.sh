#!/usr/bin/env bash
# Vendor the GraphiQL page's browser assets into gallery_gql/static/vendor/.
#
# Fetches exact pinned versions from the npm registry with `npm pack` (npm checks each
# tarball against the registry's integrity hash), copies only the files the page loads,
# and writes MANIFEST.txt (package, version, file, sha256). The output is committed:
# the app needs nothing at run time and no npm at install time. Re-run only to upgrade.
#
#   scripts/vendor-web-assets.sh          fetch and (re)write the vendored files
#   scripts/vendor-web-assets.sh --check  verify the committed files against MANIFEST.txt
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=gallery_gql/static/vendor

# package@version  file-in-tarball  vendored-name
ASSETS=(
    "react@18.3.1 umd/react.production.min.js react.production.min.js"
    "react-dom@18.3.1 umd/react-dom.production.min.js react-dom.production.min.js"
    "graphiql@3.8.3 graphiql.min.js graphiql.min.js"
    "graphiql@3.8.3 graphiql.min.css graphiql.min.css"
    # 3.2.5 is the explorer built against @graphiql/react 0.28, the one graphiql 3.8.3 bundles.
    "@graphiql/plugin-explorer@3.2.5 dist/index.umd.js graphiql-plugin-explorer.umd.js"
    "@graphiql/plugin-explorer@3.2.5 dist/style.css graphiql-plugin-explorer.css"
)

if [[ "${1:-}" == "--check" ]]; then
    cd "$DEST"
    # MANIFEST lines: package version file sha256
    grep -v '^#' MANIFEST.txt | awk '{print $4 "  " $3}' | sha256sum --check --quiet
    echo "vendored assets match MANIFEST.txt"
    exit 0
fi

command -v npm >/dev/null || { echo "npm is needed to vendor assets (apt-get install npm)" >&2; exit 1; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

rm -rf "$DEST"
mkdir -p "$DEST"
{
    echo "# Vendored by scripts/vendor-web-assets.sh from the npm registry (npm pack)."
    echo "# package version file sha256"
} > "$DEST/MANIFEST.txt"

for entry in "${ASSETS[@]}"; do
    read -r spec source name <<< "$entry"
    package=${spec%@*}
    version=${spec##*@}
    unpacked="$WORK/${package//\//_}-$version"
    if [[ ! -d "$unpacked" ]]; then
        mkdir -p "$unpacked"
        tarball=$(npm pack --silent --pack-destination "$WORK" "$spec" | tail -n 1)
        tar -xzf "$WORK/$tarball" -C "$unpacked"
    fi
    cp "$unpacked/package/$source" "$DEST/$name"
    sum=$(sha256sum "$DEST/$name" | cut -d' ' -f1)
    echo "$package $version $name $sum" >> "$DEST/MANIFEST.txt"
    echo "vendored $package@$version $source -> $DEST/$name"
done
du -ch "$DEST"/* | tail -n 1
