package io.tokenbroker.broker.cli;

import io.tokenbroker.broker.BrokerApplication;
import io.tokenbroker.broker.BrokerContext;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.Client;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.BrokerFailure;
import io.tokenbroker.broker.config.BrokerConfig;
import io.tokenbroker.broker.config.ConfigKey;
import io.tokenbroker.broker.hsm.Pkcs11ConfigTemplate;
import io.tokenbroker.broker.hsm.SoftHsmDevToken;
import io.tokenbroker.broker.keys.KeyState;
import io.tokenbroker.broker.keys.SigningAlgorithm;
import io.tokenbroker.broker.keys.SigningKeyRecord;
import io.tokenbroker.broker.tls.DevCertificates;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code broker init}: creates a broker home. Without {@code --pkcs11-config} it also creates a SoftHSM2
 * development token with a random PIN in a 0600 file. Either everything is created or, on any failure, the
 * home is left as empty as it was found.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
    description = "Create a broker home: configuration, database, signing keys in the HSM, dev TLS certificates.")
final class InitCommand implements Runnable {
  /** The client every new home has, so the device flow can be tried at once. */
  static final String DEMO_CLIENT = "demo-device";

  @Mixin HomeOption home;

  @Option(names = "--pkcs11-config", paramLabel = "FILE",
      description = "SunPKCS11 configuration of an existing token (default: create a SoftHSM2 dev token).")
  Path pkcs11Config;

  @Option(names = "--pin-file", paramLabel = "FILE",
      description = "File (mode 0600) with the user PIN of the --pkcs11-config token; or set TOKENBROKER_HSM_PIN.")
  Path pinFile;

  @Option(names = "--algorithm", defaultValue = "ES256", paramLabel = "ALG",
      description = "Signing algorithm: ES256 (default) or PS256.")
  String algorithm;

  @Option(names = "--hostname", paramLabel = "NAME",
      description = "Extra DNS name or IP address for the dev TLS server certificate (repeatable).")
  List<String> hostnames = new ArrayList<>();

  @Option(names = "--grpc-port", defaultValue = "8443", description = "gRPC TLS port (default ${DEFAULT-VALUE}).")
  int grpcPort;

  @Option(names = "--https-port", defaultValue = "8444", description = "HTTPS port (default ${DEFAULT-VALUE}).")
  int httpsPort;

  @Option(names = "--ops-port", paramLabel = "PORT", description = "Operations listener port (/metrics, /healthz, "
      + "/readyz on 127.0.0.1; default 9464, or 0 = any free port when --grpc-port is 0).")
  Integer opsPort;

  @Option(names = "--issuer", paramLabel = "URL",
      description = "Token issuer (default https://localhost:<grpc-port>).")
  String issuer;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    Path dir = home.path();
    SigningAlgorithm alg = parseAlgorithm();
    boolean devToken = pkcs11Config == null;
    Path hsmDir = dir.resolve("hsm");
    requireEmptyHome(dir);
    if (devToken) {
      SoftHsmDevToken.requireLibrary();
      BrokerContext.requireSoftHsmEnvironment(java.util.Optional.of(hsmDir.resolve("softhsm2.conf")),
          System.getenv());
    } else if (!Files.isRegularFile(pkcs11Config)) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "--pkcs11-config " + pkcs11Config + " does not exist");
    }
    boolean existed = Files.exists(dir);
    try {
      // The home holds the PIN file and TLS keys: only its owner may enter it.
      for (String sub : new String[] {"", "hsm", "tls", "data"}) {
        Files.createDirectories(dir.resolve(sub));
        Files.setPosixFilePermissions(dir.resolve(sub), PosixFilePermissions.fromString("rwx------"));
      }
      Map<ConfigKey, String> settings = new LinkedHashMap<>();
      settings.put(ConfigKey.ISSUER, issuer != null ? issuer
          : grpcPort == 0 ? "https://localhost" : "https://localhost:" + grpcPort);
      settings.put(ConfigKey.GRPC_HOST, "127.0.0.1");
      settings.put(ConfigKey.GRPC_PORT, Integer.toString(grpcPort));
      settings.put(ConfigKey.HTTPS_HOST, "127.0.0.1");
      settings.put(ConfigKey.HTTPS_PORT, Integer.toString(httpsPort));
      // Asking for any free gRPC port means several brokers share this machine (tests, demos): same for ops.
      settings.put(ConfigKey.OPS_PORT, Integer.toString(opsPort != null ? opsPort
          : grpcPort == 0 ? 0 : Integer.parseInt(ConfigKey.OPS_PORT.defaultValue())));
      if (devToken) {
        createDevToken(hsmDir, settings);
      } else {
        settings.put(ConfigKey.HSM_PKCS11_CONFIG, pkcs11Config.toAbsolutePath().normalize().toString());
        if (pinFile != null) {
          settings.put(ConfigKey.HSM_PIN_FILE, pinFile.toAbsolutePath().normalize().toString());
        }
      }
      settings.put(ConfigKey.KEYS_ALGORITHM, alg.name());
      DevCertificates.Written tls = new DevCertificates(Clock.systemUTC()).write(dir.resolve("tls"), hostnames);
      writeConfig(dir, settings);

      BrokerConfig config = BrokerConfig.load(dir);
      try (BrokerContext context = BrokerContext.open(config, System.getenv(), Clock.systemUTC());
          BrokerApplication application = new BrokerApplication(context, Clock.systemUTC())) {
        Client demo = application.clientRegistry().create(
            ClientRegistry.draft(DEMO_CLIENT, "Demo device", Set.of("telemetry:write", "firmware:read"),
                Set.of("https://api.example.test"), BindingPolicy.DPOP), "broker init");
        report(spec.commandLine().getOut(), dir, devToken, tls, context.keys().records());
        spec.commandLine().getOut().println("  device CA: "
            + context.deviceCa().certificate().getSubjectX500Principal().getName() + " (key in the HSM)");
        spec.commandLine().getOut().println("  client:   " + demo.clientId() + " (DPoP; scopes "
            + String.join(" ", new java.util.TreeSet<>(demo.allowedScopes())) + "; audience "
            + String.join(" ", demo.allowedAudiences()) + ")");
        spec.commandLine().getOut().flush();
      }
    } catch (IOException e) {
      cleanUp(dir, existed);
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot initialise " + dir + ": " + e.getMessage());
    } catch (RuntimeException e) {
      cleanUp(dir, existed);
      throw e;
    }
  }

  private SigningAlgorithm parseAlgorithm() {
    try {
      return SigningAlgorithm.parse(algorithm);
    } catch (IllegalArgumentException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, e.getMessage());
    }
  }

  private static void requireEmptyHome(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    if (!Files.isDirectory(dir)) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, dir + " exists and is not a directory");
    }
    try (Stream<Path> entries = Files.list(dir)) {
      if (entries.findAny().isPresent()) {
        throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, dir + " is not empty; 'broker init' creates a new "
            + "home and never overwrites one (use another --home, or remove this one deliberately)");
      }
    } catch (IOException e) {
      throw new BrokerFailure(BrokerFailure.EXIT_CONFIG, "cannot read " + dir + ": " + e.getMessage());
    }
  }

  private static void createDevToken(Path hsmDir, Map<ConfigKey, String> settings) throws IOException {
    SecureRandom random = new SecureRandom();
    char[] pin = HexFormat.of().formatHex(random.generateSeed(16)).toCharArray();
    char[] soPin = HexFormat.of().formatHex(random.generateSeed(16)).toCharArray();
    try {
      SoftHsmDevToken.Created token = SoftHsmDevToken.create(hsmDir, "tokenbroker", pin, soPin);
      Path pinPath = hsmDir.resolve("pin");
      Files.createFile(pinPath, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      byte[] pinBytes = new String(pin).getBytes(StandardCharsets.US_ASCII);
      Files.write(pinPath, pinBytes);
      Arrays.fill(pinBytes, (byte) 0);
      Files.writeString(hsmDir.resolve("pkcs11.cfg"),
          Pkcs11ConfigTemplate.forSlot("tokenbroker", token.library(), token.slot()));
      settings.put(ConfigKey.HSM_PKCS11_CONFIG, "hsm/pkcs11.cfg");
      settings.put(ConfigKey.HSM_PIN_FILE, "hsm/pin");
      settings.put(ConfigKey.HSM_SOFTHSM2_CONF, "hsm/softhsm2.conf");
    } finally {
      // The SO PIN is not kept: a development token that needs it is simply made again.
      Arrays.fill(pin, '\0');
      Arrays.fill(soPin, '\0');
    }
  }

  private static void writeConfig(Path dir, Map<ConfigKey, String> settings) throws IOException {
    StringBuilder sb = new StringBuilder("# tokenbroker configuration, written by 'broker init'.\n"
        + "# Every setting and its default is listed in README.md (Configuration). Secrets are never here.\n");
    for (Map.Entry<ConfigKey, String> e : settings.entrySet()) {
      sb.append("\n# ").append(e.getKey().description()).append('\n')
          .append(e.getKey().key()).append('=').append(e.getValue()).append('\n');
    }
    Files.writeString(dir.resolve(BrokerConfig.FILE_NAME), sb.toString(), StandardCharsets.UTF_8);
  }

  private static void report(PrintWriter out, Path dir, boolean devToken, DevCertificates.Written tls,
      List<SigningKeyRecord> keys) {
    out.println("initialised broker home " + dir);
    out.println(devToken
        ? "  HSM:      SoftHSM2 development token 'tokenbroker' (PIN in hsm/pin, mode 0600)"
        : "  HSM:      token of the given PKCS#11 configuration");
    Map<KeyState, String> byState = new HashMap<>();
    keys.forEach(k -> byState.put(k.state(), k.kid() + " (" + k.algorithm() + ")"));
    out.println("  active:   " + byState.get(KeyState.ACTIVE));
    out.println("  next:     " + byState.get(KeyState.NEXT));
    out.println("  TLS:      " + tls.serverCertificate() + " (CA " + tls.caCertificate() + ")");
    out.println("  operator: " + tls.operatorCertificate() + " + " + tls.operatorKey());
    out.println("  backend:  " + tls.backendCertificate() + " + " + tls.backendKey());
    out.println("start it with: bin/broker serve --home " + dir);
    out.flush();
  }

  private static void cleanUp(Path dir, boolean existed) {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        if (existed && p.equals(dir)) {
          continue;
        }
        Files.deleteIfExists(p);
      }
    } catch (IOException ignored) {
      // Best effort: the error that caused the clean-up is what the operator needs to see.
    }
  }
}
