package io.tokenbroker.broker.audit;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A security-relevant event. Details are short, non-secret facts (a reason, a kid, a jkt); never a token, a
 * code or a PIN.
 */
public record AuditEvent(long id, Instant occurredAt, String type, String actor, String clientId,
    String deviceId, String outcome, Map<String, String> details) {

  public AuditEvent {
    details = Map.copyOf(details);
  }

  public static Builder success(String type, String actor, Instant at) {
    return new Builder(type, actor, at, "success");
  }

  public static Builder failure(String type, String actor, Instant at) {
    return new Builder(type, actor, at, "failure");
  }

  /** Builds an event; {@code id} is assigned by the store. */
  public static final class Builder {
    private final String type;
    private final String actor;
    private final Instant at;
    private final String outcome;
    private String clientId;
    private String deviceId;
    private final Map<String, String> details = new LinkedHashMap<>();

    private Builder(String type, String actor, Instant at, String outcome) {
      this.type = type;
      this.actor = actor;
      this.at = at;
      this.outcome = outcome;
    }

    public Builder client(String id) {
      this.clientId = id;
      return this;
    }

    public Builder device(String id) {
      this.deviceId = id;
      return this;
    }

    public Builder detail(String key, String value) {
      if (value != null) {
        details.put(key, value.length() > 200 ? value.substring(0, 200) : value);
      }
      return this;
    }

    public AuditEvent build() {
      return new AuditEvent(0, at, type, actor, clientId, deviceId, outcome, details);
    }
  }
}
