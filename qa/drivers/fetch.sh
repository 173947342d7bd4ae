#!/bin/sh
# Puts the drivers' own test suites into qa/drivers/suites/<suite>/ (git-ignored; never vendored).
#
#   qa/drivers/fetch.sh                 from Debian source packages (apt-get source; needs deb-src
#                                       lines and an archive that serves the .orig tarballs)
#   qa/drivers/fetch.sh --git DIR       from git clones of the upstream repositories, found as
#                                       DIR/<owner>+<name>/repo, DIR/<owner>+<name> or DIR/<name>
#                                       (bare or not), checked out at the tag of the version below
#
# Each suite is taken at the version this machine's client runs (Debian's python3-psycopg2 and
# python3-psycopg, the npm pg and postgres this repository locks), so the suite tests the client
# it ships with. postgres.js has no Debian package: it comes only from git.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/suites"
mkdir -p "$dest"

# suite | Debian source package | upstream owner/name | tag | paths taken from the tree
suites='psycopg2|psycopg2|psycopg/psycopg2|2_9_5|tests
psycopg3|psycopg3|psycopg/psycopg|3.1.7|tests pyproject.toml
node-postgres|node-postgres|brianc/node-postgres|pg@8.23.0|packages/pg
postgres.js|-|porsager/postgres|v3.4.9|src tests'

gitdir=''
if [ "${1:-}" = "--git" ]; then gitdir="${2:?--git needs a directory}"; fi

fetch_git() { # name repo tag paths
  owner=${2%%/*}
  base=${2#*/}
  for cand in "$gitdir/$owner+$base/repo" "$gitdir/$owner+$base" "$gitdir/$base"; do
    if git -C "$cand" rev-parse --verify -q "$3^{commit}" >/dev/null 2>&1; then
      rm -rf "${dest:?}/$1"
      mkdir -p "$dest/$1"
      # shellcheck disable=SC2086 # paths are a word list on purpose
      git -C "$cand" archive "$3" $4 | tar x -C "$dest/$1"
      echo "$1: $2 at $3 (git)"
      return 0
    fi
  done
  echo "$1: no clone of $2 with tag $3 under $gitdir" >&2
  return 1
}

fetch_debian() { # name pkg paths
  if [ "$2" = "-" ]; then
    echo "$1: not packaged by Debian; use --git" >&2
    return 1
  fi
  tmp=$(mktemp -d)
  if ! (cd "$tmp" && apt-get source --download-only "$2" >/dev/null 2>&1); then
    echo "$1: apt-get source $2 failed (no deb-src, or the archive does not serve its sources); use --git" >&2
    rm -rf "$tmp"
    return 1
  fi
  tarball=$(ls "$tmp"/"$2"_*.orig.tar.* | grep -v 'orig-' | head -1)
  mkdir -p "$tmp/x"
  tar xf "$tarball" -C "$tmp/x"
  top="$tmp/x/$(ls "$tmp/x" | head -1)"
  rm -rf "${dest:?}/$1"
  mkdir -p "$dest/$1"
  for p in $3; do
    mkdir -p "$dest/$1/$(dirname "$p")"
    cp -r "$top/$p" "$dest/$1/$p"
  done
  rm -rf "$tmp"
  echo "$1: Debian source package $2"
}

# A suite that cannot be fetched is reported and skipped; qa:drivers says which are missing.
echo "$suites" | while IFS='|' read -r name pkg repo tag paths; do
  if [ -n "$gitdir" ]; then fetch_git "$name" "$repo" "$tag" "$paths" || true
  else fetch_debian "$name" "$pkg" "$paths" || true
  fi
done
