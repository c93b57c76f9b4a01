#!/usr/bin/env bash
# Regenerates tests/profiles/spymemcached/vectors.txt from the real
# spymemcached (Debian's libspymemcached-java, installed if missing) and the
# system's Java. Run by hand: make test does not need Java; it reads the
# committed vectors (core/tests/spymemcached_vectors.rs).
set -euo pipefail
cd "$(dirname "$0")/../../.."
bash tests/lib/need-deb.sh libspymemcached-java openjdk-17-jdk-headless
jar=/usr/share/java/spymemcached.jar
version=$(dpkg-query -W -f='${Version}' libspymemcached-java)
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
javac -d "$build" -cp "$jar" tests/profiles/spymemcached/Gen.java
java -cp "$build:$jar" Gen "$version (Debian libspymemcached-java)" \
    > tests/profiles/spymemcached/vectors.txt
wc -c tests/profiles/spymemcached/vectors.txt
