#!/usr/bin/env bash
# `npm run start:secure`: one node in secure mode for development. Makes certificates once (the
# CA key apart from them, as in production), then starts with --certs-dir:
#   ./strata-certs/ca.crt, node.crt/key (localhost, 127.0.0.1), client.root.crt/key(.pk8)
#   ./strata-ca/ca.key
# STRATA_CERTS_DIR and STRATA_CA_KEY choose other places.
set -euo pipefail
cd "$(dirname "$0")/.."
strata() { node packages/cli/bin/strata.js "$@"; }
certs=${STRATA_CERTS_DIR:-./strata-certs}
cakey=${STRATA_CA_KEY:-./strata-ca/ca.key}
[ -f "$certs/ca.crt" ] || strata cert create-ca --certs-dir="$certs" --ca-key="$cakey"
[ -f "$certs/node.crt" ] || strata cert create-node localhost 127.0.0.1 --certs-dir="$certs" --ca-key="$cakey"
[ -f "$certs/client.root.crt" ] || strata cert create-client root --also-generate-pkcs8-key --certs-dir="$certs" --ca-key="$cakey"
echo "connect as root: psql \"host=localhost port=26257 dbname=defaultdb user=root sslmode=verify-full sslrootcert=$certs/ca.crt sslcert=$certs/client.root.crt sslkey=$certs/client.root.key\"" >&2
exec node packages/cli/bin/strata.js start-single-node --store=./strata-data --listen-addr=127.0.0.1:26257 --http-addr=127.0.0.1:8080 --certs-dir="$certs" "$@"
