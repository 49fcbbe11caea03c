# Sourced by bin/* scripts: finds a Java 25+ and exports JAVA_HOME, or exits with a clear error.
# Order: $JAVA_HOME, `java` on PATH, then the usual install locations.
sampler_java_major() {
  # prints the feature version of the java binary given as $1, or nothing
  "$1" -XX:+PerfDisableSharedMem -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9][0-9]*\).*/\1/p' | head -n1
}
sampler_find_java() {
  local candidates=() c major
  [ -n "${JAVA_HOME:-}" ] && candidates+=("$JAVA_HOME")
  if command -v java >/dev/null 2>&1; then
    candidates+=("$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")")
  fi
  for c in /usr/lib/jvm/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -d "$c" ] && candidates+=("$c")
  done
  for c in "${candidates[@]}"; do
    [ -x "$c/bin/java" ] || continue
    major=$(sampler_java_major "$c/bin/java")
    if [ -n "$major" ] && [ "$major" -ge 25 ]; then
      printf '%s\n' "$c"
      return 0
    fi
  done
  return 1
}
if ! SAMPLER_JAVA_HOME=$(sampler_find_java); then
  echo "error: no Java 25 or newer found (looked at \$JAVA_HOME, java on PATH, /usr/lib/jvm, /opt/java, ~/.sdkman)." >&2
  echo "       Install a Java 25 JDK (for example Temurin 25) and set JAVA_HOME to it." >&2
  exit 2
fi
export JAVA_HOME="$SAMPLER_JAVA_HOME"
export PATH="$JAVA_HOME/bin:$PATH"
