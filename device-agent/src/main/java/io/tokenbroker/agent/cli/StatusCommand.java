package io.tokenbroker.agent.cli;

import com.nimbusds.jose.util.JSONObjectUtils;
import io.grpc.StatusRuntimeException;
import io.tokenbroker.agent.ExitCodes;
import io.tokenbroker.agent.local.LocalApiClient;
import io.tokenbroker.agent.store.AgentState;
import io.tokenbroker.proto.v1.GetAgentStatusRequest;
import io.tokenbroker.proto.v1.GetAgentStatusResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code device-agent status}: whether the credentials are usable. Asks the running daemon over the socket;
 * without one, reads the store (times are then wall-clock estimates). Exit code 0 when usable, otherwise the
 * code of the reason (9 revoked, 10 login required, 11 suspended).
 */
@Command(name = "status", description = "Show whether this device's credentials are usable (no secrets shown).")
final class StatusCommand implements Callable<Integer> {
  @ParentCommand AgentCommand parent;

  @Option(names = "--json", description = "print one JSON object")
  boolean json;

  @Override
  public Integer call() {
    return AgentCommand.guarded(() -> {
      var config = parent.config();
      Map<String, Object> out = fromDaemon(config.socketPath()).orElse(null);
      if (out == null) {
        try (AgentRuntime rt = AgentRuntime.open(config, false)) {
          out = fromStore(rt.loadState());
        }
      }
      print(out);
      return exitCode(out);
    });
  }

  private static Optional<Map<String, Object>> fromDaemon(java.nio.file.Path socket) {
    Optional<LocalApiClient> client = LocalApiClient.connect(socket);
    if (client.isEmpty()) {
      return Optional.empty();
    }
    try (LocalApiClient c = client.get()) {
      GetAgentStatusResponse s = c.stub().getAgentStatus(GetAgentStatusRequest.getDefaultInstance());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("daemon", "running");
      m.put("state", s.getState() == io.tokenbroker.proto.v1.AgentState.AGENT_STATE_UNSPECIFIED ? "login_required"
          : s.getState().name().substring("AGENT_STATE_".length()).toLowerCase(java.util.Locale.ROOT));
      m.put("device_state", s.getDeviceState().name().substring("DEVICE_STATE_".length())
          .toLowerCase(java.util.Locale.ROOT));
      m.put("device_id", s.getDeviceId());
      m.put("client_id", s.getClientId());
      if (s.hasAccessTokenExpiresIn()) {
        m.put("access_token_expires_in_s", s.getAccessTokenExpiresIn().getSeconds());
      }
      if (s.hasRefreshTokenExpiresIn()) {
        m.put("refresh_family_expires_in_s", s.getRefreshTokenExpiresIn().getSeconds());
      }
      if (s.hasLastRefreshAt()) {
        m.put("last_refresh_at", Instant.ofEpochSecond(s.getLastRefreshAt().getSeconds()).toString());
      }
      m.put("last_error", s.getLastError());
      m.put("last_error_reason", s.getLastErrorReasonValue() == 0 ? ""
          : s.getLastErrorReason().name().substring("ERROR_REASON_".length()));
      return Optional.of(m);
    } catch (StatusRuntimeException e) {
      // A socket left by a crashed daemon: fall back to the store.
      return Optional.empty();
    }
  }

  private static Map<String, Object> fromStore(Optional<AgentState> stored) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("daemon", "not running");
    if (stored.isEmpty()) {
      m.put("state", "login_required");
      m.put("device_state", "unknown");
      return m;
    }
    AgentState s = stored.get();
    m.put("state", s.hasRefreshToken() ? "stored" : "revoked".equals(s.deviceState()) ? "blocked" : "login_required");
    m.put("device_state", s.deviceState());
    m.put("device_id", s.deviceId() == null ? "" : s.deviceId());
    m.put("client_id", s.clientId());
    Instant now = Instant.now();
    if (s.accessExpiresAt() != null && s.hasRefreshToken()) {
      m.put("access_token_expires_in_s", Math.max(0, Duration.between(now, s.accessExpiresAt()).toSeconds()));
    }
    if (s.refreshExpiresAt() != null && s.hasRefreshToken()) {
      m.put("refresh_family_expires_in_s", Math.max(0, Duration.between(now, s.refreshExpiresAt()).toSeconds()));
    }
    if (s.lastRefreshAt() != null) {
      m.put("last_refresh_at", s.lastRefreshAt().toString());
    }
    m.put("last_error", s.lastError() == null ? "" : s.lastError());
    m.put("last_error_reason", s.lastErrorReason() == null ? "" : s.lastErrorReason());
    m.put("rotation_pending", s.rotationStartedAt() != null);
    m.put("times_are", "wall-clock estimates");
    return m;
  }

  private void print(Map<String, Object> m) {
    if (json) {
      System.out.println(JSONObjectUtils.toJSONString(m));
    } else {
      m.forEach((k, v) -> System.out.printf("%-28s %s%n", k + ":", v));
    }
  }

  private static int exitCode(Map<String, Object> m) {
    String device = String.valueOf(m.get("device_state"));
    String state = String.valueOf(m.get("state"));
    if ("revoked".equals(device)) {
      return ExitCodes.REVOKED;
    }
    if ("login_required".equals(state)) {
      return ExitCodes.LOGIN_REQUIRED;
    }
    if ("suspended".equals(device)) {
      return ExitCodes.SUSPENDED;
    }
    return ExitCodes.OK;
  }

}
