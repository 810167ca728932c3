package io.tokenbroker.broker.cli;

import com.google.rpc.ErrorInfo;
import io.grpc.ChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.config.BrokerConfig;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.ApproveDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.ApproveDeviceAuthorizationResponse;
import io.tokenbroker.proto.v1.BindingPolicy;
import io.tokenbroker.proto.v1.Client;
import io.tokenbroker.proto.v1.CreateClientRequest;
import io.tokenbroker.proto.v1.DenyDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.ListClientsRequest;
import io.tokenbroker.proto.v1.ListClientsResponse;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code broker admin ...}: the operator API of a running broker, over mutual TLS with an operator certificate. */
@Command(name = "admin", mixinStandardHelpOptions = true,
    description = "Operator commands against a running broker (mutual TLS with the operator certificate).",
    subcommands = {AdminCommand.Clients.class, AdminCommand.Approve.class, AdminCommand.Deny.class,
        FleetCommands.Devices.class, FleetCommands.Keys.class, FleetCommands.Audit.class, OwnerCommands.Owners.class})
final class AdminCommand implements Runnable {
  /** Exit code when the broker refused the request. */
  static final int EXIT_REFUSED = 5;
  /** Exit code when the broker could not be reached. */
  static final int EXIT_UNREACHABLE = 6;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "choose a subcommand");
  }

  /** Where the broker is and which operator credentials to use; defaults come from the broker home. */
  static final class Connection {
    @Mixin HomeOption home;

    @Option(names = "--target", paramLabel = "HOST:PORT", description = "Broker gRPC address (default: from the home).")
    String target;

    @Option(names = "--cert", paramLabel = "FILE", description = "Operator certificate (default: tls/operator.crt).")
    Path cert;

    @Option(names = "--key", paramLabel = "FILE", description = "Operator private key (default: tls/operator.key).")
    Path key;

    @Option(names = "--ca", paramLabel = "FILE", description = "CA of the broker's certificate (default: tls/ca.crt).")
    Path ca;

    <T> T call(Function<AdminServiceGrpc.AdminServiceBlockingStub, T> rpc) {
      BrokerConfig config = BrokerConfig.load(home.path());
      String address = target != null ? target : "localhost:" + config.grpcPort();
      ChannelCredentials credentials;
      try {
        credentials = TlsChannelCredentials.newBuilder()
            .keyManager(resolve(cert, "tls/operator.crt").toFile(), resolve(key, "tls/operator.key").toFile())
            .trustManager(resolve(ca, "tls/ca.crt").toFile())
            .build();
      } catch (IOException e) {
        throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot read the operator credentials: " + e.getMessage());
      }
      ManagedChannel channel = NettyChannelBuilder.forTarget(address, credentials).build();
      try {
        return rpc.apply(AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS));
      } catch (StatusRuntimeException e) {
        throw failure(e, address);
      } finally {
        channel.shutdownNow();
      }
    }

    private Path resolve(Path given, String homeRelative) {
      return given != null ? given : home.path().resolve(homeRelative);
    }

    private static BrokerFailure failure(StatusRuntimeException e, String address) {
      if (e.getStatus().getCode() == Status.Code.UNAVAILABLE) {
        return new BrokerFailure(EXIT_UNREACHABLE, "cannot reach the broker at " + address + " ("
            + e.getStatus().getDescription() + "); is 'broker serve' running, is this the right --target, and does "
            + "the broker trust this operator certificate?");
      }
      com.google.rpc.Status status = StatusProto.fromThrowable(e);
      if (status != null) {
        for (com.google.protobuf.Any detail : status.getDetailsList()) {
          if (detail.is(ErrorInfo.class)) {
            try {
              ErrorInfo info = detail.unpack(ErrorInfo.class);
              return new BrokerFailure(EXIT_REFUSED, "the broker refused: " + info.getReason() + ": "
                  + info.getMetadataOrDefault("error_description", ""));
            } catch (com.google.protobuf.InvalidProtocolBufferException ignored) {
              // fall through to the status
            }
          }
        }
      }
      return new BrokerFailure(EXIT_REFUSED, "the broker refused: " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription());
    }
  }

  @Command(name = "clients", mixinStandardHelpOptions = true, description = "Register or list clients.",
      subcommands = {Clients.Create.class, Clients.ListClients.class, FleetCommands.RevokeClientDevices.class})
  static final class Clients implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "choose 'create' or 'list'");
    }

    @Command(name = "create", mixinStandardHelpOptions = true, description = "Register a client (a product line).")
    static final class Create implements Runnable {
      @Mixin Connection connection;
      @Option(names = "--client-id", required = true) String clientId;
      @Option(names = "--name", required = true, description = "Display name shown to device owners.") String name;
      @Option(names = "--scope", required = true, description = "Allowed scope (repeatable).") List<String> scopes;
      @Option(names = "--audience", required = true, description = "Allowed audience URI (repeatable).")
      List<String> audiences;
      @Option(names = "--binding", defaultValue = "dpop", description = "dpop (default) or mtls.") String binding;
      @Option(names = "--access-token-lifetime", description = "ISO-8601, default PT5M.") Duration accessLifetime;
      @Option(names = "--refresh-idle-lifetime", description = "ISO-8601, default P14D.") Duration refreshIdle;
      @Option(names = "--refresh-absolute-lifetime", description = "ISO-8601, default P90D.") Duration refreshAbsolute;
      @Option(names = "--refresh-grace-window", description = "ISO-8601, default PT60S.") Duration grace;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Override
      public void run() {
        Client.Builder c = Client.newBuilder().setClientId(clientId).setDisplayName(name).addAllAllowedScopes(scopes)
            .addAllAllowedAudiences(audiences).setBindingPolicy(switch (binding.toLowerCase(Locale.ROOT)) {
              case "dpop" -> BindingPolicy.BINDING_POLICY_DPOP;
              case "mtls" -> BindingPolicy.BINDING_POLICY_MTLS;
              default -> throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "--binding must be dpop or mtls");
            });
        if (accessLifetime != null) {
          c.setAccessTokenLifetime(proto(accessLifetime));
        }
        if (refreshIdle != null) {
          c.setRefreshIdleLifetime(proto(refreshIdle));
        }
        if (refreshAbsolute != null) {
          c.setRefreshAbsoluteLifetime(proto(refreshAbsolute));
        }
        if (grace != null) {
          c.setRefreshGraceWindow(proto(grace));
        }
        Client created = connection.call(stub -> stub.createClient(CreateClientRequest.newBuilder().setClient(c).build()))
            .getClient();
        PrintWriter out = spec.commandLine().getOut();
        out.println("created client " + created.getClientId() + " (" + created.getDisplayName() + "), binding "
            + created.getBindingPolicy().name().substring("BINDING_POLICY_".length()) + ", scopes "
            + String.join(" ", created.getAllowedScopesList()) + ", audiences "
            + String.join(" ", created.getAllowedAudiencesList()));
        out.flush();
      }

      private static com.google.protobuf.Duration proto(Duration d) {
        return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).build();
      }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List registered clients.")
    static final class ListClients implements Runnable {
      @Mixin Connection connection;
      @Mixin FleetCommands.Output output;
      @CommandLine.Spec CommandLine.Model.CommandSpec spec;

      @Override
      public void run() {
        java.util.List<Client> all = new java.util.ArrayList<>();
        String token = "";
        do {
          String page = token;
          ListClientsResponse r = connection.call(s -> s.listClients(ListClientsRequest.newBuilder()
              .setPageSize(200).setPageToken(page).build()));
          all.addAll(r.getClientsList());
          token = r.getNextPageToken();
        } while (!token.isEmpty());
        PrintWriter out = spec.commandLine().getOut();
        if (output.json) {
          out.println(FleetCommands.json(ListClientsResponse.newBuilder().addAllClients(all)));
        } else {
          out.printf("%-24s  %-6s  %-30s  %s%n", "CLIENT_ID", "BIND", "SCOPES", "AUDIENCES");
          for (Client c : all) {
            out.printf("%-24s  %-6s  %-30s  %s%n", c.getClientId(),
                c.getBindingPolicy().name().substring("BINDING_POLICY_".length()),
                String.join(" ", c.getAllowedScopesList()), String.join(" ", c.getAllowedAudiencesList()));
          }
        }
        out.flush();
      }
    }
  }

  @Command(name = "approve", mixinStandardHelpOptions = true,
      description = "Approve the device authorization shown with USER-CODE, on behalf of an owner (RFC 8628 §3.3).")
  static final class Approve implements Runnable {
    @Mixin Connection connection;
    @Parameters(paramLabel = "USER-CODE") String userCode;
    @Option(names = "--owner", required = true, description = "The device owner the device is bound to.") String owner;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      ApproveDeviceAuthorizationResponse r = connection.call(stub -> stub.approveDeviceAuthorization(
          ApproveDeviceAuthorizationRequest.newBuilder().setUserCode(userCode).setOwner(owner).build()));
      PrintWriter out = spec.commandLine().getOut();
      out.println("approved: device " + r.getDeviceId() + " of client " + r.getClientId() + " for " + owner
          + " (scopes " + String.join(" ", r.getScopeList()) + ")");
      out.flush();
    }
  }

  @Command(name = "deny", mixinStandardHelpOptions = true,
      description = "Deny the device authorization shown with USER-CODE (the device gets access_denied).")
  static final class Deny implements Runnable {
    @Mixin Connection connection;
    @Parameters(paramLabel = "USER-CODE") String userCode;
    @Option(names = "--reason", defaultValue = "", description = "Why, for the audit log.") String reason;
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      connection.call(stub -> stub.denyDeviceAuthorization(
          DenyDeviceAuthorizationRequest.newBuilder().setUserCode(userCode).setReason(reason).build()));
      spec.commandLine().getOut().println("denied");
      spec.commandLine().getOut().flush();
    }
  }
}
