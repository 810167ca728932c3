package io.tokenbroker.examples.telemetry;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.tokenbroker.examples.telemetry.v1.IngestTelemetryResponse;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.grpc.AccessTokenInterceptor;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code telemetry-service}: run the example protected service, or send it one measurement as a device. */
@Command(name = "telemetry-service", mixinStandardHelpOptions = true,
    subcommands = {TelemetryCommand.Serve.class, TelemetryCommand.Send.class, TelemetryCommand.Htu.class},
    description = "An example backend protected by the tokenbroker verifier.")
public final class TelemetryCommand implements Runnable {
  /** Refused by the service (UNAUTHENTICATED or PERMISSION_DENIED). */
  static final int EXIT_REFUSED = 3;
  /** Could not reach the service or another failure. */
  static final int EXIT_FAILED = 4;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new TelemetryCommand()).execute(args));
  }

  /** Reads a file of a broker home's tls/ directory unless the option gave another one. */
  static Path fromHome(Path given, Path brokerHome, String relative, String option) {
    if (given != null) {
      return given;
    }
    if (brokerHome == null) {
      throw new CommandLine.ParameterException(new CommandLine(new TelemetryCommand()),
          option + " or --broker-home is required");
    }
    return brokerHome.resolve(relative);
  }

  @Command(name = "serve", mixinStandardHelpOptions = true,
      description = "Run the telemetry service over TLS, verifying every call's access token with the broker's keys "
          + "and revocation stream.")
  static final class Serve implements Callable<Integer> {
    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Listen address (default ${DEFAULT-VALUE}).")
    String host;

    @Option(names = "--port", defaultValue = "9443", description = "TLS port; 0 = any free port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--port-file", paramLabel = "FILE", description = "Write the port here once listening.")
    Path portFile;

    @Option(names = "--broker", defaultValue = "localhost:8443", paramLabel = "HOST:PORT",
        description = "The broker's gRPC address (default ${DEFAULT-VALUE}).")
    String broker;

    @Option(names = "--broker-home", paramLabel = "DIR",
        description = "A broker home: defaults for --issuer (broker.properties) and the tls/ files below.")
    Path brokerHome;

    @Option(names = "--ca", paramLabel = "FILE", description = "CA that the broker's certificate chains to (tls/ca.crt).")
    Path ca;

    @Option(names = "--backend-cert", paramLabel = "FILE",
        description = "This backend's client certificate for the broker (tls/backend.crt).")
    Path backendCert;

    @Option(names = "--backend-key", paramLabel = "FILE", description = "Its PKCS#8 key (tls/backend.key).")
    Path backendKey;

    @Option(names = "--tls-cert", paramLabel = "FILE",
        description = "Certificate of this service's listener (tls/server.crt: valid for localhost).")
    Path tlsCert;

    @Option(names = "--tls-key", paramLabel = "FILE", description = "Its PKCS#8 key (tls/server.key).")
    Path tlsKey;

    @Option(names = "--issuer", paramLabel = "URL", description = "The broker's issuer (default: broker.issuer of "
        + "--broker-home).")
    String issuer;

    @Option(names = "--audience", defaultValue = "https://api.example.test",
        description = "This service's audience (default ${DEFAULT-VALUE}, which demo-device tokens carry).")
    String audience;

    @Option(names = "--external-url", paramLabel = "URL",
        description = "The URL devices use for this service: the DPoP htu base (default https://localhost:<port>).")
    String externalUrl;

    @Option(names = "--max-revocation-staleness", defaultValue = "PT30S",
        description = "Refuse tokens when the revocation stream was silent this long (default ${DEFAULT-VALUE}).")
    Duration maxStaleness;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      Path caFile = fromHome(ca, brokerHome, "tls/ca.crt", "--ca");
      String iss = issuer != null ? issuer : issuerOf(brokerHome);
      int listenPort = port != 0 ? port : freePort(host);
      String external = externalUrl != null ? externalUrl : "https://localhost:" + listenPort;

      ManagedChannel brokerChannel = NettyChannelBuilder.forTarget(broker, TlsChannelCredentials.newBuilder()
          .keyManager(fromHome(backendCert, brokerHome, "tls/backend.crt", "--backend-cert").toFile(),
              fromHome(backendKey, brokerHome, "tls/backend.key", "--backend-key").toFile())
          .trustManager(caFile.toFile()).build()).keepAliveTime(30, TimeUnit.SECONDS).build();
      TokenVerifier verifier = TokenVerifier.builder().issuer(iss).audience(audience).brokerChannel(brokerChannel)
          .maxRevocationStaleness(maxStaleness).build();
      TlsServerCredentials credentials = (TlsServerCredentials) TlsServerCredentials.newBuilder()
          .keyManager(fromHome(tlsCert, brokerHome, "tls/server.crt", "--tls-cert").toFile(),
              fromHome(tlsKey, brokerHome, "tls/server.key", "--tls-key").toFile())
          .trustManager(caFile.toFile()).clientAuth(TlsServerCredentials.ClientAuth.OPTIONAL).build();
      TelemetryServer server = new TelemetryServer(NettyServerBuilder.forAddress(
          new InetSocketAddress(host, listenPort), credentials).maxInboundMessageSize(16 * 1024)
          .maxInboundMetadataSize(16 * 1024), verifier, external).start();
      if (!verifier.awaitReady(Duration.ofSeconds(30))) {
        out.println("warning: the broker's keys or revocation stream are not available yet; calls are refused "
            + "with UNAVAILABLE until they are");
      }
      if (portFile != null) {
        Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
        Files.writeString(tmp, Integer.toString(server.port()), StandardCharsets.US_ASCII);
        Files.move(tmp, portFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      }
      out.println("telemetry service ready: port=" + server.port() + " htu=" + TelemetryServer.ingestHtu(external)
          + " scope=" + TelemetryServer.SCOPE);
      out.flush();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        try {
          server.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        verifier.close();
        brokerChannel.shutdownNow();
        stopped.countDown();
      }, "telemetry-shutdown"));
      stopped.await();
      return 0;
    }

    private static int freePort(String host) throws IOException {
      try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(host))) {
        return s.getLocalPort();
      }
    }

    private String issuerOf(Path home) throws IOException {
      if (home == null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--issuer or --broker-home is required");
      }
      Properties p = new Properties();
      try (InputStream in = Files.newInputStream(home.resolve("broker.properties"))) {
        p.load(in);
      }
      return p.getProperty("broker.issuer", "https://localhost:8443");
    }
  }

  @Command(name = "send", mixinStandardHelpOptions = true,
      description = "Send one measurement as a device: the access token and a DPoP proof made for this call "
          + "(e.g. by the device agent's 'token' and 'proof' commands, for the htu that 'htu' prints).")
  static final class Send implements Callable<Integer> {
    @Option(names = "--target", defaultValue = "localhost:9443", description = "Service address (default ${DEFAULT-VALUE}).")
    String target;

    @Option(names = "--ca", paramLabel = "FILE", description = "CA of the service's certificate.")
    Path ca;

    @Option(names = "--broker-home", paramLabel = "DIR", description = "Default for --ca: its tls/ca.crt.")
    Path brokerHome;

    @Option(names = "--token", paramLabel = "JWT", description = "The access token (visible to other local users in "
        + "the process list; prefer --token-file).")
    String token;

    @Option(names = "--token-file", paramLabel = "FILE", description = "File holding the access token.")
    Path tokenFile;

    @Option(names = "--proof", required = true, paramLabel = "JWT", description = "The DPoP proof for this call.")
    String proof;

    @Option(names = "--metric", defaultValue = "temperature_celsius", description = "Metric (default ${DEFAULT-VALUE}).")
    String metric;

    @Option(names = "--value", defaultValue = "21.5", description = "Value (default ${DEFAULT-VALUE}).")
    double value;

    @Option(names = "--wait-for-enter", description = "Connect first, then send when a line arrives on standard "
        + "input, and print how long the call took from then (times a call without the start-up of this JVM).")
    boolean waitForEnter;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      String accessToken = token != null ? token
          : tokenFile != null ? Files.readString(tokenFile, StandardCharsets.US_ASCII).strip() : null;
      if (accessToken == null || accessToken.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--token or --token-file is required");
      }
      ManagedChannel channel = NettyChannelBuilder.forTarget(target, TlsChannelCredentials.newBuilder()
          .trustManager(fromHome(ca, brokerHome, "tls/ca.crt", "--ca").toFile()).build()).build();
      long started = 0;
      try {
        if (waitForEnter) {
          awaitConnected(channel);
          spec.commandLine().getOut().println("connected to " + target + "; sending when a line arrives on stdin");
          spec.commandLine().getOut().flush();
          new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
        }
        started = System.nanoTime();
        IngestTelemetryResponse r = new TelemetryClient(channel).send(accessToken, proof, metric, value);
        spec.commandLine().getOut().println("accepted: stored " + r.getRecordId() + " for device " + r.getDeviceId()
            + " (" + r.getRecordsFromDevice() + " record(s) from this device)" + took(started));
        return 0;
      } catch (StatusRuntimeException e) {
        PrintWriter err = spec.commandLine().getErr();
        err.println("refused: " + e.getStatus().getCode() + (e.getStatus().getDescription() == null ? ""
            : ": " + e.getStatus().getDescription()) + took(started));
        Metadata trailers = e.getTrailers();
        if (trailers != null && trailers.getAll(AccessTokenInterceptor.WWW_AUTHENTICATE) != null) {
          for (String challenge : trailers.getAll(AccessTokenInterceptor.WWW_AUTHENTICATE)) {
            err.println("  www-authenticate: " + challenge);
          }
        }
        return switch (e.getStatus().getCode()) {
          case UNAUTHENTICATED, PERMISSION_DENIED -> EXIT_REFUSED;
          default -> EXIT_FAILED;
        };
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }

    private String took(long started) {
      return waitForEnter ? " in " + (System.nanoTime() - started) / 1_000_000 + " ms" : "";
    }

    /** Opens the TLS connection ahead of the call (at most 10 s), so the timed call measures only itself. */
    private static void awaitConnected(ManagedChannel channel) throws InterruptedException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      io.grpc.ConnectivityState state = channel.getState(true);
      while (state != io.grpc.ConnectivityState.READY && System.nanoTime() < deadline) {
        java.util.concurrent.CountDownLatch changed = new java.util.concurrent.CountDownLatch(1);
        channel.notifyWhenStateChanged(state, changed::countDown);
        changed.await(100, TimeUnit.MILLISECONDS);
        state = channel.getState(true);
      }
    }
  }

  @Command(name = "htu", mixinStandardHelpOptions = true,
      description = "Print the DPoP htu of IngestTelemetry, for making the proof.")
  static final class Htu implements Runnable {
    @Option(names = "--external-url", defaultValue = "https://localhost:9443",
        description = "The service's external URL (default ${DEFAULT-VALUE}).")
    String externalUrl;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().getOut().println(TelemetryServer.ingestHtu(externalUrl));
    }
  }
}
