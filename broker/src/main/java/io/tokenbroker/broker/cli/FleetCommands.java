package io.tokenbroker.broker.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.MessageOrBuilder;
import com.google.protobuf.Timestamp;
import com.google.protobuf.util.JsonFormat;
import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.proto.v1.AuditEvent;
import io.tokenbroker.proto.v1.Device;
import io.tokenbroker.proto.v1.DeviceState;
import io.tokenbroker.proto.v1.GetDeviceRequest;
import io.tokenbroker.proto.v1.ListAuditEventsRequest;
import io.tokenbroker.proto.v1.ListAuditEventsResponse;
import io.tokenbroker.proto.v1.ListDevicesRequest;
import io.tokenbroker.proto.v1.ListDevicesResponse;
import io.tokenbroker.proto.v1.ListSigningKeysRequest;
import io.tokenbroker.proto.v1.ResumeDeviceRequest;
import io.tokenbroker.proto.v1.RevokeClientDevicesRequest;
import io.tokenbroker.proto.v1.RevokeDeviceRequest;
import io.tokenbroker.proto.v1.RotateSigningKeyRequest;
import io.tokenbroker.proto.v1.RotateSigningKeyResponse;
import io.tokenbroker.proto.v1.SigningKey;
import io.tokenbroker.proto.v1.SuspendDeviceRequest;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code broker admin devices|keys|audit ...}: fleet operations over the operator API. */
final class FleetCommands {
  private FleetCommands() {}

  /** {@code --json}: print the API's messages as JSON (one document) instead of a table. */
  static final class Output {
    @Option(names = "--json", description = "Print JSON (the API's message) instead of a table.")
    boolean json;
  }

  static String json(MessageOrBuilder message) {
    try {
      return JsonFormat.printer().preservingProtoFieldNames().print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(e);
    }
  }

  static String time(Timestamp t) {
    return t.getSeconds() == 0 ? "-" : Instant.ofEpochSecond(t.getSeconds()).toString();
  }

  static String state(DeviceState s) {
    return s.name().substring("DEVICE_STATE_".length());
  }

  static void printDevices(PrintWriter out, List<Device> devices) {
    out.printf("%-36s  %-20s  %-16s  %-9s  %-20s  %s%n", "DEVICE_ID", "CLIENT_ID", "OWNER", "STATE", "LAST_SEEN",
        "BINDING");
    for (Device d : devices) {
      String binding = d.getBinding().hasJkt() ? "jkt " + d.getBinding().getJkt()
          : d.getBinding().hasX5TS256() ? "x5t#S256 " + d.getBinding().getX5TS256() : "-";
      out.printf("%-36s  %-20s  %-16s  %-9s  %-20s  %s%n", d.getDeviceId(), d.getClientId(), d.getOwner(),
          state(d.getState()), time(d.getLastSeenAt()), binding);
    }
    out.flush();
  }

  static void printDevice(PrintWriter out, Output output, Device d) {
    if (output.json) {
      out.println(json(d));
    } else {
      printDevices(out, List.of(d));
      if (!d.getStateReason().isEmpty()) {
        out.println("reason: " + d.getStateReason());
      }
      if (!d.getUserAgent().isEmpty()) {
        out.println("user agent: " + d.getUserAgent());
      }
      out.println("last refresh: " + time(d.getLastRefreshAt()));
      for (String serial : d.getCertificateSerialsList()) {
        out.println("device certificate serial: " + serial);
      }
      for (var f : d.getRefreshFamiliesList()) {
        out.println("refresh family " + f.getFamilyId() + ": " + f.getState().name()
            .substring("REFRESH_FAMILY_STATE_".length()) + ", " + f.getGenerationCount() + " token(s), created "
            + time(f.getCreatedAt()) + ", ends " + time(f.getAbsoluteExpiresAt()));
      }
    }
    out.flush();
  }

  static Timestamp timestamp(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  @Command(name = "devices", mixinStandardHelpOptions = true, description = "List, inspect, revoke, suspend, resume devices.",
      subcommands = {ListDevices.class, GetDevice.class, Revoke.class, Suspend.class, Resume.class})
  static final class Devices implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "choose list, get, revoke, suspend or resume");
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List devices, optionally filtered.")
  static final class ListDevices implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @Option(names = "--client", description = "Only devices of this client.") String client;
    @Option(names = "--state", description = "Only devices in this state: active, suspended, revoked.") String state;
    @Option(names = "--owner", description = "Only devices of this owner.") String owner;
    @Option(names = "--silent-for", paramLabel = "DURATION",
        description = "Only devices not seen for at least this long (ISO-8601, e.g. P7D).") java.time.Duration silentFor;
    @Option(names = "--seen-within", paramLabel = "DURATION",
        description = "Only devices seen within this long (ISO-8601, e.g. PT1H).") java.time.Duration seenWithin;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      ListDevicesRequest.Builder request = ListDevicesRequest.newBuilder().setPageSize(500);
      Instant now = Instant.now();
      if (silentFor != null) {
        request.setLastSeenEndTime(timestamp(now.minus(silentFor)));
      }
      if (seenWithin != null) {
        request.setLastSeenStartTime(timestamp(now.minus(seenWithin)));
      }
      if (client != null) {
        request.setClientId(client);
      }
      if (owner != null) {
        request.setOwner(owner);
      }
      if (state != null) {
        try {
          request.setState(DeviceState.valueOf("DEVICE_STATE_" + state.toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "--state must be active, suspended or revoked");
        }
      }
      List<Device> all = new ArrayList<>();
      String token = "";
      do {
        String page = token;
        ListDevicesResponse r = connection.call(s -> s.listDevices(request.setPageToken(page).build()));
        all.addAll(r.getDevicesList());
        token = r.getNextPageToken();
      } while (!token.isEmpty());
      PrintWriter out = spec.commandLine().getOut();
      if (output.json) {
        out.println(json(ListDevicesResponse.newBuilder().addAllDevices(all)));
        out.flush();
      } else {
        printDevices(out, all);
      }
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "Show one device.")
  static final class GetDevice implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @Parameters(paramLabel = "DEVICE-ID") String deviceId;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      printDevice(spec.commandLine().getOut(), output, connection.call(s -> s.getDevice(
          GetDeviceRequest.newBuilder().setDeviceId(deviceId).build())).getDevice());
    }
  }

  @Command(name = "revoke", mixinStandardHelpOptions = true, description = "Revoke a device for good: its refresh "
      + "tokens, its key, and (through verifiers) every token it holds.")
  static final class Revoke implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @Parameters(paramLabel = "DEVICE-ID") String deviceId;
    @Option(names = "--reason", required = true, description = "Why, for the audit log.") String reason;
    @Option(names = "--key-compromise", description = "The device's key is known to be compromised.") boolean compromise;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      printDevice(spec.commandLine().getOut(), output, connection.call(s -> s.revokeDevice(RevokeDeviceRequest
          .newBuilder().setDeviceId(deviceId).setReason(reason).setKeyCompromise(compromise).build())).getDevice());
    }
  }

  @Command(name = "suspend", mixinStandardHelpOptions = true,
      description = "Suspend a device: its tokens are refused until it is resumed.")
  static final class Suspend implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @Parameters(paramLabel = "DEVICE-ID") String deviceId;
    @Option(names = "--reason", required = true, description = "Why, for the audit log.") String reason;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      printDevice(spec.commandLine().getOut(), output, connection.call(s -> s.suspendDevice(SuspendDeviceRequest
          .newBuilder().setDeviceId(deviceId).setReason(reason).build())).getDevice());
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true,
      description = "Resume a suspended device; tokens issued before the suspension stay refused.")
  static final class Resume implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @Parameters(paramLabel = "DEVICE-ID") String deviceId;
    @Option(names = "--reason", required = true, description = "Why, for the audit log.") String reason;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      printDevice(spec.commandLine().getOut(), output, connection.call(s -> s.resumeDevice(ResumeDeviceRequest
          .newBuilder().setDeviceId(deviceId).setReason(reason).build())).getDevice());
    }
  }

  @Command(name = "revoke-devices", mixinStandardHelpOptions = true,
      description = "Revoke every device of a client (a compromised product line).")
  static final class RevokeClientDevices implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Parameters(paramLabel = "CLIENT-ID") String clientId;
    @Option(names = "--reason", required = true, description = "Why, for the audit log.") String reason;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      long n = connection.call(s -> s.revokeClientDevices(RevokeClientDevicesRequest.newBuilder()
          .setClientId(clientId).setReason(reason).build())).getRevokedDeviceCount();
      spec.commandLine().getOut().println("revoked " + n + " device(s) of client " + clientId);
      spec.commandLine().getOut().flush();
    }
  }

  @Command(name = "keys", mixinStandardHelpOptions = true, description = "Signing keys of a running broker.",
      subcommands = {ListKeys.class, RotateKeys.class})
  static final class Keys implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "choose list or rotate");
    }
  }

  static void printKeys(PrintWriter out, List<SigningKey> keys) {
    out.printf("%-43s  %-5s  %-7s  %-20s  %-20s  %-20s%n", "KID", "ALG", "STATE", "CREATED", "ACTIVATED", "RETIRED");
    for (SigningKey k : keys) {
      out.printf("%-43s  %-5s  %-7s  %-20s  %-20s  %-20s%n", k.getKid(), k.getAlg(),
          k.getState().name().substring("SIGNING_KEY_STATE_".length()), time(k.getCreatedAt()),
          time(k.getActivatedAt()), time(k.getRetiredAt()));
    }
    out.flush();
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List signing keys and their states.")
  static final class ListKeys implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      var r = connection.call(s -> s.listSigningKeys(ListSigningKeysRequest.getDefaultInstance()));
      PrintWriter out = spec.commandLine().getOut();
      if (output.json) {
        out.println(json(r));
        out.flush();
      } else {
        printKeys(out, r.getSigningKeysList());
      }
    }
  }

  @Command(name = "rotate", mixinStandardHelpOptions = true,
      description = "Activate the NEXT key now, retire the ACTIVE one, generate a new NEXT key in the HSM.")
  static final class RotateKeys implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @Option(names = "--expected-active", paramLabel = "KID",
        description = "Rotate only if this is still the active key (safe to retry).") String expected;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      RotateSigningKeyResponse r = connection.call(s -> s.rotateSigningKey(RotateSigningKeyRequest.newBuilder()
          .setExpectedActiveKid(expected == null ? "" : expected).build()));
      PrintWriter out = spec.commandLine().getOut();
      if (output.json) {
        out.println(json(r));
        out.flush();
      } else {
        out.println("rotated: " + r.getActiveKey().getKid() + " is now ACTIVE");
        printKeys(out, List.of(r.getActiveKey(), r.getNextKey(), r.getRetiredKey()));
      }
    }
  }

  @Command(name = "audit", mixinStandardHelpOptions = true, description = "Read the audit log, oldest first.")
  static final class Audit implements Runnable {
    @Mixin AdminCommand.Connection connection;
    @Mixin Output output;
    @Option(names = "--type", description = "Only events of this type, e.g. device_revoked.") String type;
    @Option(names = "--device", description = "Only events about this device.") String device;
    @Option(names = "--limit", defaultValue = "200", description = "At most this many events (default 200).") int limit;
    @Option(names = "--since", paramLabel = "INSTANT", description = "Only events at or after this time "
        + "(ISO-8601, e.g. 2026-11-01T00:00:00Z).") Instant since;
    @Option(names = "--until", paramLabel = "INSTANT", description = "Only events before this time.") Instant until;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      if (limit < 1 || limit > 100_000) {
        throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "--limit must be 1-100000");
      }
      List<AuditEvent> events = new ArrayList<>();
      String token = "";
      do {
        ListAuditEventsRequest.Builder request = ListAuditEventsRequest.newBuilder()
            .setPageSize(Math.min(500, limit - events.size())).setPageToken(token);
        if (type != null) {
          request.setType(type);
        }
        if (device != null) {
          request.setDeviceId(device);
        }
        if (since != null) {
          request.setStartTime(timestamp(since));
        }
        if (until != null) {
          request.setEndTime(timestamp(until));
        }
        ListAuditEventsResponse r = connection.call(s -> s.listAuditEvents(request.build()));
        events.addAll(r.getAuditEventsList());
        token = r.getNextPageToken();
      } while (!token.isEmpty() && events.size() < limit);
      PrintWriter out = spec.commandLine().getOut();
      if (output.json) {
        out.println(json(ListAuditEventsResponse.newBuilder().addAllAuditEvents(events)));
      } else {
        out.printf("%-6s  %-20s  %-30s  %-7s  %-36s  %s%n", "ID", "TIME", "TYPE", "OUTCOME", "DEVICE", "DETAILS");
        for (AuditEvent e : events) {
          out.printf("%-6s  %-20s  %-30s  %-7s  %-36s  %s%n", e.getId(), time(e.getOccurredAt()), e.getType(),
              e.getOutcome().name().substring("AUDIT_EVENT_OUTCOME_".length()),
              e.getDeviceId().isEmpty() ? "-" : e.getDeviceId(), e.getDetailsMap());
        }
      }
      out.flush();
    }
  }
}
