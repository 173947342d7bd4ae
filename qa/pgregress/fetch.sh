#!/bin/sh
# Puts PostgreSQL 15's regression suite (src/test/regress/{sql,data,expected,parallel_schedule})
# into qa/pgregress/suite/ (git-ignored), from Debian's postgresql-15 source package of the
# installed server's version. Needs deb-src lines in apt's sources (Debian's archive); or pass an
# unpacked PostgreSQL 15 source tree: qa/pgregress/fetch.sh /path/to/postgresql-15.x
set -eu
here=$(cd "$(dirname "$0")" && pwd)
dest="$here/suite"
if [ $# -ge 1 ]; then
  src="$1"
else
  ver=$(dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cd "$tmp"
  if [ -n "$ver" ]; then apt-get source --download-only "postgresql-15=$ver"; else apt-get source --download-only postgresql-15; fi
  tarball=$(ls postgresql-15_*.orig.tar.* | head -1)
  tar xf "$tarball" --wildcards '*/src/test/regress/sql' '*/src/test/regress/data' '*/src/test/regress/expected' '*/src/test/regress/parallel_schedule'
  src="$tmp/$(ls -d postgresql-15.*/ | head -1)"
fi
rm -rf "$dest"
mkdir -p "$dest"
cp -r "$src/src/test/regress/sql" "$src/src/test/regress/data" "$src/src/test/regress/expected" "$src/src/test/regress/parallel_schedule" "$dest/"
echo "suite in $dest: $(ls "$dest/sql" | wc -l) files"
