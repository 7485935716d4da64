#!/usr/bin/env bash
# The local stack on loopback: Kafka 4 (KRaft), HDFS NameNode + DataNode, Prometheus, Pushgateway, and
# Airflow 3 (API server with the UI on :8080, scheduler, DAG processor; scripts/stack/airflow.sh).
#   up      start what does not answer, wait until every service answers, create the topics (idempotent)
#   status  one line per service with its address and whether it answers; exit 1 if any does not
#   down    stop what `up` started (pid files under var/stack/run), nothing else
# Install the prerequisites first with `bash scripts/stack/install.sh`.
set -euo pipefail
# shellcheck source=scripts/stack/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/stack/airflow.sh
source "$(dirname "${BASH_SOURCE[0]}")/airflow.sh"

KAFKA_TOPIC="${KAFKA_TOPIC:-population_data}"
KAFKA_PARTITIONS="${KAFKA_PARTITIONS:-3}"
INSTALL_HINT="run: bash scripts/stack/install.sh"

# Java 17 closes java.base to reflection; Hadoop 3.4 still needs these packages opened.
HADOOP_JAVA_OPTS=(
  --add-opens=java.base/java.lang=ALL-UNNAMED
  --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
  --add-opens=java.base/java.io=ALL-UNNAMED
  --add-opens=java.base/java.net=ALL-UNNAMED
  --add-opens=java.base/java.nio=ALL-UNNAMED
  --add-opens=java.base/java.util=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
  --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
  --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
  --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
  --add-opens=java.base/sun.security.action=ALL-UNNAMED
  --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
  --add-opens=java.base/jdk.internal.misc=ALL-UNNAMED
  -Dio.netty.tryReflectionSetAccessible=true
)

check_prerequisites() {
  command -v java >/dev/null || die "java not found (JDK 17+ needed); $INSTALL_HINT"
  local major
  major="$(java_major)"
  [[ -n "$major" && "$major" -ge 17 ]] || die "Java 17+ needed, found ${major:-unknown}; $INSTALL_HINT"
  command -v curl >/dev/null || die "curl not found; $INSTALL_HINT"
  command -v ss >/dev/null || die "ss (iproute2) not found; $INSTALL_HINT"
  command -v prometheus >/dev/null || die "prometheus binary not found; $INSTALL_HINT"
  command -v prometheus-pushgateway >/dev/null || die "prometheus-pushgateway binary not found; $INSTALL_HINT"
  classpath_of kafka >/dev/null || die "Kafka jars missing in $STACK_LIB/kafka; $INSTALL_HINT"
  classpath_of hadoop >/dev/null || die "Hadoop jars missing in $STACK_LIB/hadoop; $INSTALL_HINT"
}

# Debian's Prometheus 2.42 serves its classic UI's assets from /usr/share/prometheus/web, where popper.js
# links to the ES-module build (it ends in `export`): every classic page then throws "Unexpected token
# 'export'" and Bootstrap's tooltips fail. Serve a copy of that tree (links) whose popper.js is the UMD build.
render_prometheus_assets() {
  local src=/usr/share/prometheus/web out="$STACK_CONF/prometheus-web" entry
  [[ -d "$src/static" && -f /usr/share/javascript/popper.js/umd/popper.min.js ]] || return 0
  [[ -L "$out/static/popper.js" ]] && return 0
  rm -rf "$out"
  mkdir -p "$out/static"
  ln -s "$src/templates" "$out/templates"
  for entry in "$src/static"/*; do ln -s "$(readlink -f "$entry")" "$out/static/${entry##*/}"; done
  rm -f "$out/static/popper.js"
  ln -s /usr/share/javascript/popper.js/umd "$out/static/popper.js"
}

# The flag naming that tree (Debian's build only), or nothing.
prometheus_assets_flag() {
  # Not `prometheus --help | grep -q`: grep quits at the first match, prometheus dies of SIGPIPE, and
  # pipefail turns that into "no such flag" (it did, on some runs).
  if [[ -d "$STACK_CONF/prometheus-web/static" ]] && [[ "$(prometheus --help 2>&1)" == *--web.local-assets* ]]; then
    echo "--web.local-assets=$STACK_CONF/prometheus-web/"
  fi
}

render_all_conf() {
  render_prometheus_assets
  render_conf "$STACK_SCRIPTS/conf/kafka.properties" "$STACK_CONF/kafka/server.properties"
  render_conf "$STACK_SCRIPTS/conf/core-site.xml" "$STACK_CONF/hadoop/core-site.xml"
  render_conf "$STACK_SCRIPTS/conf/hdfs-site.xml" "$STACK_CONF/hadoop/hdfs-site.xml"
  cp "$STACK_SCRIPTS/conf/hadoop-log4j.properties" "$STACK_CONF/hadoop/log4j.properties"
  # The daemons' HTTP servers look up webapps/<name> on the classpath. Maven's hadoop-hdfs jar does not
  # carry them (the distribution tarball does), so give each an empty app: WebHDFS and /jmx are
  # servlets registered in code and need nothing from these folders.
  local app
  for app in hdfs datanode secondary static; do
    mkdir -p "$STACK_CONF/hadoop/webapps/$app"
    echo '<a href="/jmx">/jmx</a> <a href="/webhdfs/v1/?op=LISTSTATUS">/webhdfs/v1/</a>' >"$STACK_CONF/hadoop/webapps/$app/index.html"
  done
}

# ---------------------------------------------------------------- probes (used by up and status)

kafka_answers() { port_open 9092; }
namenode_answers() { http_ok "http://127.0.0.1:9870/webhdfs/v1/?op=GETFILESTATUS&user.name=hdfs"; }
# Ready for writes: at least one live DataNode and the NameNode out of safe mode.
hdfs_writable() {
  local state info
  state="$(curl -fsS --max-time 2 'http://127.0.0.1:9870/jmx?qry=Hadoop:service=NameNode,name=FSNamesystemState' 2>/dev/null)" || return 1
  [[ "$state" =~ \"NumLiveDataNodes\"\ *:\ *([0-9]+) ]] && ((BASH_REMATCH[1] >= 1)) || return 1
  info="$(curl -fsS --max-time 2 'http://127.0.0.1:9870/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo' 2>/dev/null)" || return 1
  [[ "$info" =~ \"Safemode\"\ *:\ *\"\" ]]
}
datanode_answers() { http_ok "http://127.0.0.1:9864/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo" && hdfs_writable; }
prometheus_answers() { http_ok "http://127.0.0.1:9090/-/ready"; }
pushgateway_answers() { http_ok "http://127.0.0.1:9091/-/ready"; }

# ---------------------------------------------------------------- starters

start_kafka() {
  local conf="$STACK_CONF/kafka/server.properties"
  if [[ ! -f "$STACK_DATA/kafka/meta.properties" ]]; then
    say "formatting Kafka storage (first start)"
    mkdir -p "$STACK_DATA/kafka"
    local cluster_id
    cluster_id="$(KAFKA_JVM_OPTS=-XX:TieredStopAtLevel=1 bash "$STACK_SCRIPTS/kafka-class.sh" kafka.tools.StorageTool random-uuid)"
    bash "$STACK_SCRIPTS/kafka-class.sh" kafka.tools.StorageTool format --standalone \
      -t "$cluster_id" -c "$conf" >>"$STACK_LOGS/kafka.log" 2>&1 ||
      die "kafka-storage format failed; see $STACK_LOGS/kafka.log"
  fi
  spawn kafka java -Xms512m -Xmx1g -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$STACK_SCRIPTS/conf/kafka-log4j2.properties" \
    -Dkafka.logs.dir="$STACK_LOGS" \
    -cp "$(classpath_of kafka)" kafka.Kafka "$conf"
}

# The java command line of a Hadoop daemon or tool, in the array HADOOP_CMD (spawn needs argv, not a function).
hadoop_cmd() {
  HADOOP_CMD=(java -Xmx512m "${HADOOP_JAVA_OPTS[@]}" -Djava.net.preferIPv4Stack=true
    -Dhadoop.log.dir="$STACK_LOGS" -Dhadoop.home.dir="$STACK_DIR"
    -Dlog4j.configuration="file:$STACK_CONF/hadoop/log4j.properties"
    -cp "$STACK_CONF/hadoop:$(classpath_of hadoop)" "$@")
}

start_namenode() {
  if [[ ! -f "$STACK_DATA/hdfs/name/current/VERSION" ]]; then
    say "formatting the HDFS NameNode (first start)"
    mkdir -p "$STACK_DATA/hdfs/name" "$STACK_LOGS"
    hadoop_cmd org.apache.hadoop.hdfs.server.namenode.NameNode -format -nonInteractive -force
    "${HADOOP_CMD[@]}" >>"$STACK_LOGS/namenode.log" 2>&1 || die "NameNode format failed; see $STACK_LOGS/namenode.log"
  fi
  hadoop_cmd org.apache.hadoop.hdfs.server.namenode.NameNode
  spawn namenode "${HADOOP_CMD[@]}"
}

start_datanode() {
  mkdir -p "$STACK_DATA/hdfs/data"
  hadoop_cmd org.apache.hadoop.hdfs.server.datanode.DataNode
  spawn datanode "${HADOOP_CMD[@]}"
}

start_prometheus() {
  mkdir -p "$STACK_DATA/prometheus"
  local assets
  assets="$(prometheus_assets_flag)"
  spawn prometheus prometheus ${assets:+"$assets"} \
    --config.file="$STACK_SCRIPTS/prometheus.local.yml" \
    --storage.tsdb.path="$STACK_DATA/prometheus" \
    --storage.tsdb.retention.time=7d \
    --web.listen-address=127.0.0.1:9090 \
    --web.enable-lifecycle
}

start_pushgateway() {
  mkdir -p "$STACK_DATA/pushgateway"
  spawn pushgateway prometheus-pushgateway \
    --web.listen-address=127.0.0.1:9091 \
    --persistence.file="$STACK_DATA/pushgateway/metrics.store" \
    --persistence.interval=30s
}

# service name -> ports it binds (checked free before a start), starter, readiness probe, timeout (s)
CORE_SERVICES=(kafka namenode datanode prometheus pushgateway)
AIRFLOW_SERVICES=(airflow_api airflow_dag_processor airflow_triggerer airflow_scheduler)
SERVICES=("${CORE_SERVICES[@]}" "${AIRFLOW_SERVICES[@]}")
declare -A PORTS=([kafka]="9092 9093" [namenode]="9870 9000" [datanode]="9866 9864 9867" [prometheus]="9090" [pushgateway]="9091"
  [airflow_api]="$AIRFLOW_PORT_LOCAL" [airflow_dag_processor]="" [airflow_triggerer]="" [airflow_scheduler]="")
declare -A ADDRESS=(
  [kafka]="127.0.0.1:9092 (controller 127.0.0.1:9093)"
  [namenode]="http://127.0.0.1:9870 (WebHDFS; RPC hdfs://127.0.0.1:9000)"
  [datanode]="http://127.0.0.1:9864 (data 127.0.0.1:9866)"
  [prometheus]="http://127.0.0.1:9090 (UI http://127.0.0.1:9090/classic/targets)"
  [pushgateway]="http://127.0.0.1:9091"
  [airflow_api]="http://localhost:$AIRFLOW_PORT_LOCAL (Airflow UI and REST API, login ${AIRFLOW_ADMIN_USER:-admin})"
  [airflow_dag_processor]="(parses dags/ every 30 s)"
  [airflow_triggerer]="(deferred tasks; none in this DAG)"
  [airflow_scheduler]="(LocalExecutor, ${AIRFLOW__CORE__PARALLELISM:-2} slots)"
)
declare -A READY_TIMEOUT=([kafka]=120 [namenode]=120 [datanode]=120 [prometheus]=60 [pushgateway]=30
  [airflow_api]=240 [airflow_dag_processor]=240 [airflow_triggerer]=240 [airflow_scheduler]=240)

start_if_needed() {
  local service="$1" port
  if our_pid "$service" >/dev/null; then return 0; fi
  # Shared machines: a service another checkout started already answers; use it, start nothing.
  if "${service}_answers"; then
    say "$service already answers (not started by this stack); using it"
    return 0
  fi
  for port in ${PORTS[$service]}; do require_free_port "$service" "$port"; done
  "start_$service"
  say "started $service (pid $(<"$(pid_file "$service")"))"
}

create_topics() {
  local deadline=$((SECONDS + 60)) out
  local tsx="$REPO_ROOT/node_modules/.bin/tsx"
  if [[ -x "$tsx" ]]; then
    # The broker accepts connections a moment before its metadata is ready: retry until then.
    until out="$(KAFKA_TOPIC="$KAFKA_TOPIC" KAFKA_PARTITIONS="$KAFKA_PARTITIONS" "$tsx" "$STACK_SCRIPTS/topics.ts" 2>&1)"; do
      ((SECONDS < deadline)) || die "could not create the topics: $(echo "$out" | tail -n1 | cut -c1-300)"
      sleep 1
    done
    return 0
  fi
  # Before `npm ci` there is no kafkajs: Kafka's own TopicCommand does the same, slower (a JVM per topic).
  local topic
  for topic in "$KAFKA_TOPIC" "$KAFKA_TOPIC.dlq"; do
    until out="$(KAFKA_JVM_OPTS=-XX:TieredStopAtLevel=1 bash "$STACK_SCRIPTS/kafka-class.sh" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server 127.0.0.1:9092 --create --if-not-exists \
      --topic "$topic" --partitions "$KAFKA_PARTITIONS" --replication-factor 1 2>&1)"; do
      ((SECONDS < deadline)) || die "could not create topic $topic: $(echo "$out" | grep -m1 -E 'Error|Exception' | cut -c1-300)"
      sleep 1
    done
  done
}

cmd_up() {
  local started_at=$SECONDS service
  check_prerequisites
  mkdir -p "$STACK_DATA" "$STACK_LOGS" "$STACK_RUN"
  render_all_conf
  # Start everything first, then wait: the JVMs and Airflow's API server boot in parallel. The scheduler
  # starts once HDFS takes writes (it may upload the DAG's input first: scripts/stack/airflow.sh).
  for service in "${CORE_SERVICES[@]}" airflow_api airflow_dag_processor airflow_triggerer; do start_if_needed "$service"; done
  for service in "${CORE_SERVICES[@]}"; do
    wait_until "$service" "${READY_TIMEOUT[$service]}" "$STACK_LOGS/$service.log" "${service}_answers"
  done
  create_topics
  # A running Prometheus re-reads its config, e.g. to pick up prometheus/alerts.yml added since.
  curl -fsS -X POST --max-time 5 http://127.0.0.1:9090/-/reload >/dev/null ||
    die "Prometheus rejected its configuration; see $STACK_LOGS/prometheus.log"
  start_if_needed airflow_scheduler
  for service in "${AIRFLOW_SERVICES[@]}"; do
    wait_until "$service" "${READY_TIMEOUT[$service]}" "$STACK_LOGS/$service.log" "${service}_answers"
  done
  say "up in $((SECONDS - started_at))s: Kafka 127.0.0.1:9092 (topics $KAFKA_TOPIC, $KAFKA_TOPIC.dlq), WebHDFS http://127.0.0.1:9870, Prometheus http://127.0.0.1:9090/classic/targets, Pushgateway http://127.0.0.1:9091, Airflow http://localhost:$AIRFLOW_PORT_LOCAL (login ${AIRFLOW_ADMIN_USER:-admin}, password AIRFLOW_ADMIN_PASSWORD, default admin)"
}

cmd_status() {
  local service state pid owner down=0
  for service in "${SERVICES[@]}"; do
    if pid="$(our_pid "$service")"; then owner="pid $pid"; else owner="not started by this stack"; fi
    if "${service}_answers"; then state="up"; else
      state="DOWN"
      down=1
    fi
    printf '%-22s %-5s %-66s %s\n' "$service" "$state" "${ADDRESS[$service]}" "$owner"
  done
  return "$down"
}

cmd_down() {
  local i
  for ((i = ${#SERVICES[@]} - 1; i >= 0; i--)); do stop_service "${SERVICES[$i]}" 30; done
}

case "${1:-}" in
  up)
    lock_stack
    cmd_up
    ;;
  down)
    lock_stack
    cmd_down
    ;;
  status) cmd_status ;;
  *)
    echo "usage: npm run stack -- up|down|status" >&2
    exit 2
    ;;
esac
