#!/usr/bin/env bash
# Runs a class from the Apache Kafka jars of the local stack, like Kafka's own kafka-run-class.sh:
#   bash scripts/stack/kafka-class.sh org.apache.kafka.tools.ProducerPerformance --topic t ...
#   bash scripts/stack/kafka-class.sh org.apache.kafka.tools.TopicCommand --bootstrap-server 127.0.0.1:9092 --list
# Tools log warnings only, to stderr. KAFKA_HEAP_OPTS overrides the heap (default -Xmx512m);
# KAFKA_JVM_OPTS adds JVM flags.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

(($# >= 1)) || die "usage: kafka-class.sh <MainClass> [args...]"
cp="$(classpath_of kafka)" || die "Kafka jars missing in $STACK_LIB/kafka; run: bash scripts/stack/install.sh"
# shellcheck disable=SC2086 # both variables are lists of JVM flags
exec java ${KAFKA_HEAP_OPTS:--Xmx512m} ${KAFKA_JVM_OPTS:-} -XX:+UseG1GC -Djava.awt.headless=true \
  -Dlog4j2.configurationFile="$STACK_SCRIPTS/conf/tools-log4j2.properties" \
  -cp "$cp" "$@"
