# Shared helpers of the local stack scripts (sourced, not run). Paths, pid files, port and HTTP
# probes. Every service runs in its own session (setsid) so `down` can stop its whole process group.

STACK_SCRIPTS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$STACK_SCRIPTS/../.." && pwd)"
# Everything the stack writes (jars, generated config, data, logs, pid files) lives here, git-ignored.
STACK_DIR="${STACK_DIR:-$REPO_ROOT/var/stack}"
STACK_LIB="$STACK_DIR/lib"
STACK_CONF="$STACK_DIR/conf"
STACK_DATA="$STACK_DIR/data"
STACK_LOGS="$STACK_DIR/logs"
STACK_RUN="$STACK_DIR/run"

KAFKA_VERSION_POM="$STACK_SCRIPTS/maven/kafka/pom.xml"
HADOOP_VERSION_POM="$STACK_SCRIPTS/maven/hadoop/pom.xml"

# Fails the script with one line on stderr.
die() {
  echo "stack: $*" >&2
  exit 1
}

say() { echo "stack: $*" >&2; }

pid_file() { echo "$STACK_RUN/$1.pid"; }

# Prints the pid of a service this stack started, if it is still alive.
our_pid() {
  local file pid
  file="$(pid_file "$1")"
  [[ -f "$file" ]] || return 1
  pid="$(<"$file")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # A stale pid file may name a reused pid: every service's command line mentions STACK_DIR.
  [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$STACK_DIR"* ]] || return 1
  echo "$pid"
}

# Serialises up/down: several developers (and test set-ups) may run `stack up` at the same moment.
lock_stack() {
  mkdir -p "$STACK_RUN"
  exec 9>"$STACK_RUN/.lock"
  flock -w 900 9 || die "another stack command holds $STACK_RUN/.lock for 15 min; giving up"
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# The process listening on a loopback port, as "pid (command)", for error messages.
port_owner() {
  local line
  line="$(ss -ltnpH "sport = :$1" 2>/dev/null | head -n1)"
  if [[ "$line" =~ pid=([0-9]+) ]]; then
    echo "pid ${BASH_REMATCH[1]} ($(ps -o comm= -p "${BASH_REMATCH[1]}" 2>/dev/null || echo '?'))"
  else
    echo "another process"
  fi
}

# Fails when a port a service needs is held by a process this stack did not start.
require_free_port() {
  local service="$1" port="$2"
  if port_open "$port"; then
    die "port $port needed by $service is taken by $(port_owner "$port"); stop it or free the port"
  fi
}

http_ok() {
  curl -fsS -o /dev/null --max-time 2 "$1" 2>/dev/null
}

# Polls a probe command until it succeeds; dies with the service's log tail after the timeout.
wait_until() {
  local service="$1" timeout_s="$2" log="$3"
  shift 3
  local deadline=$((SECONDS + timeout_s))
  until "$@"; do
    if ! our_pid "$service" >/dev/null; then
      die "$service exited during start-up; last log lines of $log: $(tail -n 5 "$log" 2>/dev/null | tr '\n' ' ' | cut -c1-400)"
    fi
    if ((SECONDS >= deadline)); then
      die "$service did not become ready within ${timeout_s}s; see $log"
    fi
    sleep 0.5
  done
}

# Starts a command detached in its own session, stdout/stderr to the service log, pid to its file.
spawn() {
  local service="$1"
  shift
  mkdir -p "$STACK_RUN" "$STACK_LOGS"
  local log="$STACK_LOGS/$service.log"
  echo "=== $(date -u +%FT%TZ) start: $*" >>"$log"
  # 9>&-: the service must not inherit the stack lock (fd 9), or the lock would live as long as it.
  setsid "$@" </dev/null >>"$log" 2>&1 9>&- &
  echo $! >"$(pid_file "$service")"
}

# Stops a service this stack started: SIGTERM to its process group, SIGKILL after a grace period.
stop_service() {
  local service="$1" grace_s="${2:-20}" pid
  if ! pid="$(our_pid "$service")"; then
    rm -f "$(pid_file "$service")"
    return 0
  fi
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + grace_s))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.3; done
  if kill -0 "$pid" 2>/dev/null; then
    say "$service (pid $pid) ignored SIGTERM for ${grace_s}s; killing it"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  # The group may hold children that outlived the leader (none expected, but leave nothing behind).
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f "$(pid_file "$service")"
  say "stopped $service (pid $pid)"
}

# Writes a config template with @DATA@ replaced by the data directory.
render_conf() {
  local template="$1" out="$2"
  mkdir -p "$(dirname "$out")"
  sed -e "s#@DATA@#$STACK_DATA#g" "$template" >"$out.tmp" && mv "$out.tmp" "$out"
}

classpath_of() {
  local dir="$STACK_LIB/$1"
  compgen -G "$dir/*.jar" >/dev/null || return 1
  echo "$dir/*"
}

java_major() {
  java -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1
}
