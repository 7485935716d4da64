#!/usr/bin/env bash
# Makes the base image every Dockerfile of docker/ starts from, debian:bookworm-slim, when the engine
# has none and cannot pull one (no registry reachable): Debian 12 bootstrapped with debootstrap, as the
# official image is, plus the official image's container settings (no service starts during package
# installs, no apt caches, no docs/man pages). Idempotent: an existing image is kept.
#   bash scripts/compose/base-image.sh [IMAGE]     (default debian:bookworm-slim)
# Environment: DEBIAN_MIRROR (default Debian's own), DOCKER (the docker command).
set -euo pipefail

image="${1:-debian:bookworm-slim}"
docker_cmd="${DOCKER:-docker}"
say() { echo "compose: $*" >&2; }

if $docker_cmd image inspect "$image" >/dev/null 2>&1; then exit 0; fi
if timeout 60 $docker_cmd pull "$image" >/dev/null 2>&1; then
  say "pulled $image"
  exit 0
fi
command -v debootstrap >/dev/null || {
  say "installing debootstrap (Debian package)"
  if [[ $EUID -eq 0 ]]; then apt-get install -y -qq debootstrap >/dev/null; else sudo apt-get install -y -qq debootstrap >/dev/null; fi
}

started=$SECONDS
root="$(mktemp -d /tmp/base-image.XXXXXX)"
trap 'rm -rf "$root"' EXIT
say "building $image with debootstrap (no registry answered)"
args=(--variant=minbase bookworm "$root")
[[ -n "${DEBIAN_MIRROR:-}" ]] && args+=("$DEBIAN_MIRROR")
debootstrap "${args[@]}" >"$root.log" 2>&1 || {
  tail -n 20 "$root.log" >&2
  exit 1
}
rm -f "$root.log"

# What the official image's build (debuerreotype) sets up for containers.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
Acquire::GzipIndexes "true";
Acquire::Languages "none";
APT::Install-Recommends "false";
CONF
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-slim" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
CONF
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
tar -C "$root" -c . | $docker_cmd import -c 'CMD ["bash"]' - "$image" >/dev/null
say "built $image in $((SECONDS - started))s ($($docker_cmd image inspect -f '{{.Size}}' "$image" | awk '{printf "%d MB", $1/1e6}'))"
