package io.tokenbroker.broker.ops;

import java.util.List;
import java.util.stream.Collectors;

/**
 * Whether the broker can serve token requests now; when it cannot, which checks failed (by name only: no
 * message, address or secret).
 */
public record Readiness(boolean ready, List<String> failed) {
  public Readiness {
    failed = List.copyOf(failed);
  }

  /** {@code {"status":"ready"}} or {@code {"status":"not ready","failed":["database"]}}. */
  public String json() {
    if (ready) {
      return "{\"status\":\"ready\"}";
    }
    return "{\"status\":\"not ready\",\"failed\":["
        + failed.stream().map(name -> "\"" + name + "\"").collect(Collectors.joining(",")) + "]}";
  }
}
