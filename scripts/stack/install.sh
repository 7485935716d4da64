#!/usr/bin/env bash
# Installs what the local stack runs: Prometheus and the Pushgateway from Debian packages, and the
# Apache Kafka and Hadoop jars through Maven (cached in ~/.m2, copied to var/stack/lib).
# Idempotent: a second run only re-checks. Needs root (or sudo) for apt, a JDK 17+ and Maven.
#   --browser   also Debian's chromium, for the browser tests (CI installs it; the demo does not need it)
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

install_apt_packages() {
  local missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v prometheus-pushgateway >/dev/null || missing+=(prometheus-pushgateway)
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  command -v curl >/dev/null || missing+=(curl)
  command -v ss >/dev/null || missing+=(iproute2)
  # The Airflow venv (scripts/airflow/setup.sh) needs python3 with venv and pip.
  command -v python3 >/dev/null || missing+=(python3)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  if ((WITH_BROWSER)) && ! command -v chromium >/dev/null; then missing+=(chromium); fi
  ((${#missing[@]} == 0)) && return 0
  say "installing Debian packages: ${missing[*]}"
  # The packages' postinst would start their own Prometheus/Pushgateway on 9090/9091, the ports
  # the stack uses: a policy-rc.d that answers 101 forbids service starts during the install.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    added_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  ((added_policy)) && as_root rm -f "$policy"
  # Under systemd the units are enabled anyway; stop them so the ports stay free for the stack.
  if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
    as_root systemctl disable --now prometheus prometheus-pushgateway prometheus-node-exporter >/dev/null 2>&1 || true
  fi
}

# Copies a pom's runtime dependencies to var/stack/lib/<name>; skipped when the pom is unchanged.
fetch_jars() {
  local name="$1" pom="$2" out="$STACK_LIB/$1"
  local stamp="$out/.pom.sha256" sum
  sum="$(sha256sum "$pom" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(<"$stamp")" == "$sum" ]]; then return 0; fi
  say "fetching $name jars with Maven (cached in ~/.m2)"
  rm -rf "$out"
  mkdir -p "$out"
  mvn -B -q -f "$pom" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$out" >"$STACK_DIR/mvn-$name.log" 2>&1 ||
    die "Maven could not fetch the $name jars; see $STACK_DIR/mvn-$name.log"
  echo "$sum" >"$stamp"
}

WITH_BROWSER=0
[[ "${1:-}" == "--browser" ]] && WITH_BROWSER=1

mkdir -p "$STACK_DIR"
install_apt_packages
major="$(java_major)"
[[ -n "$major" && "$major" -ge 17 ]] || die "Java 17+ is required (found: ${major:-none})"
fetch_jars kafka "$KAFKA_VERSION_POM"
fetch_jars hadoop "$HADOOP_VERSION_POM"
say "installed: $(prometheus --version 2>&1 | head -n1 | cut -d' ' -f1-3), $(prometheus-pushgateway --version 2>&1 | head -n1 | cut -d' ' -f1-3), $(find "$STACK_LIB/kafka" -name 'kafka_2.13-*.jar' -printf '%f'), $(find "$STACK_LIB/hadoop" -name 'hadoop-hdfs-[0-9]*.jar' -printf '%f')"
