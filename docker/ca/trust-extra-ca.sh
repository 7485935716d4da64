#!/bin/sh
# Build stages only: trusts the certificates of docker/ca/extra-ca.crt (absent by default) on top of
# Debian's, for networks whose TLS goes through an inspecting proxy. Needs the ca-certificates package.
# Each certificate becomes its own file so update-ca-certificates (and the Java keystore hook of
# ca-certificates-java, when it is installed afterwards) takes every one of them.
set -eu
bundle="$(dirname "$0")/extra-ca.crt"
[ -s "$bundle" ] || exit 0
mkdir -p /usr/local/share/ca-certificates/extra
awk '/-----BEGIN CERTIFICATE-----/ { n++ } n { print > ("/usr/local/share/ca-certificates/extra/ca-" n ".crt") }' "$bundle"
update-ca-certificates >/dev/null 2>&1
echo "trusting $(ls /usr/local/share/ca-certificates/extra | wc -l) extra CA certificates for this build"
