#!/bin/sh
# docker-compose's one-shot `init` service: `strata init` against STRATA_INIT_HOST (node 1's RPC
# address) as soon as it listens. A cluster initialized by an earlier `docker compose up` is
# success too, so the service can run on every `up`. Gives up after STRATA_INIT_TRIES seconds.
set -u
host=${STRATA_INIT_HOST:-strata1:27257}
tries=${STRATA_INIT_TRIES:-120}
i=0
while :; do
  if out=$(node /opt/strata/packages/cli/bin/strata.js init --insecure --host="$host" 2>&1); then
    echo "$out"
    exit 0
  fi
  case "$out" in
    *"already been initialized"*) echo "the cluster was already initialized"; exit 0 ;;
  esac
  i=$((i + 1))
  if [ "$i" -ge "$tries" ]; then
    echo "strata init against $host failed: $out" >&2
    exit 1
  fi
  sleep 1
done
