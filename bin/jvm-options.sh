# Sourced by bin/broker and bin/device-agent (bash): JVM options that depend on the runtime, and a class-data
# sharing (CDS) archive per jar and runtime that makes every later start of the program cheaper.
#
# jvm_setup JAVA JAR CDS_DIR USER_OPTS MAY_WRITE  sets:
#   jvm_opts     options to pass before -jar
#   cds_pending  non-empty when this run should write the archive: then start the JVM with run_and_publish
#                (instead of exec), which publishes the archive after the JVM has exited; only when MAY_WRITE is
#                "yes", for a run that ends by itself (a daemon stopped by a signal would write nothing)
# CDS_DIR "off" (or empty) disables the archive, and so do USER_OPTS that choose their own sharing (-Xshare,
# SharedArchiveFile, ArchiveClassesAtExit). The archive is a cache: losing it only costs the next start.

jvm_setup() {
  local java="$1" jar="$2" cds_dir="$3" user_opts="${4:-}" may_write="${5:-no}"
  jvm_opts=()
  cds_pending=""
  cds_archive=""
  local java_bin home feature=0
  java_bin="$(command -v "$java" || true)"
  if [[ -n "$java_bin" ]]; then
    home="$(dirname "$(dirname "$(readlink -f "$java_bin")")")"
    feature="$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$home/release" 2>/dev/null || true)"
  fi
  # From JDK 24 the JVM prints warnings on stderr when protobuf and Netty use sun.misc.Unsafe (JEP 498); allow
  # it quietly there. JDK 17-22 do not know the option, so the version comes from the runtime's release file.
  if [[ "${feature:-0}" -ge 24 ]]; then
    jvm_opts+=(--sun-misc-unsafe-memory-access=allow)
  fi
  if [[ -z "$cds_dir" || "$cds_dir" == off || -z "$java_bin" || "$user_opts" =~ Xshare|SharedArchive|ArchiveClasses ]]
  then
    return 0
  fi
  # The JVM's own warnings go to stderr (not stdout, which carries --json output), and CDS says nothing: an
  # archive that does not fit (another runtime, a rebuilt jar) is ignored silently and the start is as usual.
  jvm_opts+=(-Xlog:disable -Xlog:all=warning,cds*=off:stderr)
  # An archive holds class data the JVM will run: use (or write) one only in a directory of this user's that
  # nobody else can write to, and only a file of this user's.
  mkdir -p -m 0700 "$cds_dir" 2>/dev/null || true
  if ! private_to_me "$cds_dir"; then
    return 0
  fi
  # One archive per installed jar (its path), jar build and runtime build; earlier builds' archives of the same
  # installation are removed when a new one is published.
  local place build
  place="$(readlink -f "$jar" | cksum | cut -d' ' -f1)"
  build="$( { cat "$home/release" 2>/dev/null; stat -c '%s %Y' "$jar"; } | cksum | cut -d' ' -f1)"
  cds_archive="$cds_dir/$(basename "$jar" .jar)-jdk${feature}-${place}-${build}.jsa"
  if [[ -f "$cds_archive" ]]; then
    if private_to_me "$cds_archive"; then
      jvm_opts+=("-XX:SharedArchiveFile=$cds_archive")
    fi
  elif [[ "$may_write" == yes && -w "$cds_dir" ]]; then
    # Written under a name of its own and renamed when complete, so a concurrent start never maps half a file.
    cds_pending="$cds_archive.$$.tmp"
    jvm_opts+=("-XX:ArchiveClassesAtExit=$cds_pending")
  fi
}

# True if PATH is owned by the current user and neither its group nor others may write to it.
private_to_me() {
  [[ -O "$1" ]] && [[ "$(( 8#$(stat -c '%a' "$1") & 8#022 ))" -eq 0 ]]
}

# Publishes the archive this run wrote, if it wrote one; older archives of the same program and runtime version
# (earlier builds of the jar) are removed.
cds_publish() {
  if [[ -n "$cds_pending" ]]; then
    if [[ -s "$cds_pending" ]]; then
      local prefix="${cds_archive%-*}"
      mv -f "$cds_pending" "$cds_archive" 2>/dev/null || rm -f "$cds_pending"
      find "$(dirname "$cds_archive")" -maxdepth 1 -name "$(basename "$prefix")-*.jsa" \
        ! -name "$(basename "$cds_archive")" -mmin +1 -delete 2>/dev/null || true
    else
      rm -f "$cds_pending"
    fi
  fi
}

# run_and_publish COMMAND...: runs the JVM as a child (the archive can only be published after it exits),
# passing SIGTERM, SIGINT and SIGHUP on to it so that stopping the launcher stops the JVM, then publishes the
# archive. Returns the JVM's exit status.
run_and_publish() {
  "$@" <&0 &
  local child=$! status=0
  trap 'kill -s TERM "$child" 2>/dev/null' TERM INT HUP
  while true; do
    status=0
    wait "$child" || status=$?
    kill -0 "$child" 2>/dev/null || break
  done
  trap - TERM INT HUP
  cds_publish
  return "$status"
}
