#!/bin/bash
# kafka.sh server | health | tool <MainClass> [args]
#   server  writes /opt/kafka/config/server.properties from the KAFKA_* variables, formats the
#           storage on first start, then runs the broker in the foreground
#   health  succeeds when the broker answers API requests on its inter-broker listener
set -euo pipefail
KAFKA_HOME=/opt/kafka
config="$KAFKA_HOME/config/server.properties"

java_tool() {
  exec java -Xmx128m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$KAFKA_HOME/config/tools-log4j2.properties" -cp "$KAFKA_HOME/libs/*" "$@"
}

write_config() {
  : >"$config.tmp"
  local name key
  # KAFKA_LOG_DIRS -> log.dirs. JVM settings of this script are not server properties.
  for name in $(compgen -e | grep '^KAFKA_' | grep -Ev '^KAFKA_(HEAP_OPTS|JVM_OPTS)$' | sort); do
    key="$(echo "${name#KAFKA_}" | tr '[:upper:]' '[:lower:]' | tr '_' '.')"
    echo "$key=${!name}" >>"$config.tmp"
  done
  mv "$config.tmp" "$config"
}

case "${1:-server}" in
  server)
    write_config
    log_dir="$(sed -n 's/^log\.dirs=//p' "$config")"
    if [[ ! -f "${log_dir:-/var/lib/kafka/data}/meta.properties" ]]; then
      : "${CLUSTER_ID:?CLUSTER_ID is needed to format the storage on first start}"
      echo "kafka: formatting storage in ${log_dir} (cluster $CLUSTER_ID)"
      java -Xmx256m -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$KAFKA_HOME/config/tools-log4j2.properties" \
        -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool format -t "$CLUSTER_ID" -c "$config" --ignore-formatted
    fi
    # shellcheck disable=SC2086 # lists of JVM flags
    exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} ${KAFKA_JVM_OPTS:-} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
      -Djava.awt.headless=true -Dlog4j2.configurationFile="$KAFKA_HOME/config/kafka-log4j2.properties" \
      -cp "$KAFKA_HOME/libs/*" kafka.Kafka "$config"
    ;;
  health)
    listener="$(sed -n 's/^inter\.broker\.listener\.name=//p' "$config")"
    address="$(sed -n 's/^advertised\.listeners=//p' "$config" | tr ',' '\n' | sed -n "s#^${listener:-PLAINTEXT}://##p" | head -n1)"
    java_tool org.apache.kafka.tools.BrokerApiVersionsCommand --bootstrap-server "${address:-localhost:9092}" >/dev/null
    ;;
  tool)
    shift
    java_tool "$@"
    ;;
  *) exec "$@" ;;
esac
