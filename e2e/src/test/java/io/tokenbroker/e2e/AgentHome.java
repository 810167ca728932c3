package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A device: a directory with the agent's configuration, state directory and (optionally) its own SoftHSM2 token,
 * separate from the broker's; commands run through {@code bin/device-agent} as processes.
 */
final class AgentHome {
  static final Pattern USER_CODE = Pattern.compile("enter the code: ([B-Z]{4}-[B-Z]{4})");
  private static final Pattern SLOT = Pattern.compile("reassigned to slot (\\d+)");

  final Path dir;
  final Path config;
  final Map<String, String> env = new HashMap<>();

  private AgentHome(Path dir) {
    this.dir = dir;
    this.config = dir.resolve("agent.properties");
  }

  /**
   * A device for {@code clientId} of {@code broker}.
   *
   * @param pkcs11 give the device its own SoftHSM2 token for the DPoP key and the store key
   */
  static AgentHome create(Path dir, BrokerHome broker, String clientId, boolean pkcs11) throws Exception {
    AgentHome a = new AgentHome(dir);
    Files.createDirectories(dir);
    StringBuilder cfg = new StringBuilder()
        .append("broker.target=localhost:").append(broker.grpcPort).append('\n')
        .append("broker.external-url=https://localhost\n")
        .append("broker.ca-file=").append(broker.caFile()).append('\n')
        .append("client-id=").append(clientId).append('\n')
        .append("state-dir=state\n")
        .append("refresh.fraction=0.05\n")
        .append("refresh.jitter=0.01\n")
        .append("retry.initial-backoff=PT0.2S\n")
        .append("retry.max-backoff=PT2S\n")
        .append("suspended.check-interval=PT2S\n");
    if (pkcs11) {
      cfg.append("pkcs11.config=").append(a.createToken()).append('\n');
    }
    Files.writeString(a.config, cfg.toString());
    return a;
  }

  /** Sets {@code key} in the agent's configuration file, replacing its current value if it has one. */
  void set(String key, String value) throws Exception {
    List<String> lines = new ArrayList<>(Files.readAllLines(config).stream()
        .filter(l -> !l.startsWith(key + "=")).toList());
    lines.add(key + "=" + value);
    Files.write(config, lines);
  }

  private Path createToken() throws Exception {
    Path hsm = dir.resolve("hsm");
    Path tokens = hsm.resolve("tokens");
    Files.createDirectories(tokens);
    Path conf = hsm.resolve("softhsm2.conf");
    Files.writeString(conf, "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n");
    String pin = HexFormat.of().formatHex(new SecureRandom().generateSeed(8));
    ProcessBuilder pb = new ProcessBuilder("softhsm2-util", "--init-token", "--free", "--label", "device",
        "--so-pin", pin + "so", "--pin", pin).redirectErrorStream(true);
    pb.environment().put("SOFTHSM2_CONF", conf.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    Matcher m = SLOT.matcher(out);
    assertThat(m.find()).as(out).isTrue();
    Path library = List.of("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
        "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so").stream().map(Path::of).filter(Files::isRegularFile)
        .findFirst().orElseThrow();
    Path cfg = hsm.resolve("pkcs11.cfg");
    Files.writeString(cfg, "name = device\nlibrary = " + library + "\nslot = " + m.group(1) + "\n");
    Path pinFile = hsm.resolve("pin");
    Files.writeString(pinFile, pin);
    Files.setPosixFilePermissions(pinFile, PosixFilePermissions.fromString("rw-------"));
    env.put("SOFTHSM2_CONF", conf.toString());
    env.put("DEVICE_AGENT_PKCS11_PIN", pin);
    return cfg;
  }

  Path stateDir() {
    return dir.resolve("state");
  }

  Path stateFile() {
    return stateDir().resolve("state.enc");
  }

  Path socket() {
    return stateDir().resolve("agent.sock");
  }

  private List<String> command(String... args) {
    List<String> c = new ArrayList<>(List.of(Proc.ROOT.resolve("bin/device-agent").toString(), "--config",
        config.toString()));
    c.addAll(List.of(args));
    return c;
  }

  Proc start(Map<String, String> extraEnv, String... args) throws Exception {
    Map<String, String> all = new HashMap<>(env);
    all.putAll(extraEnv);
    return Proc.start(all, command(args));
  }

  Proc.Result run(String... args) throws Exception {
    return Proc.run(env, command(args));
  }

  /** {@code login} in the background, approved through the operator CLI; returns once it exited 0. */
  void loginApprovedBy(BrokerHome broker) throws Exception {
    try (Proc login = start(Map.of(), "login")) {
      Matcher m = USER_CODE.matcher(login.awaitLines(l -> USER_CODE.matcher(l).find(), 1, Duration.ofSeconds(60)));
      assertThat(m.find()).isTrue();
      broker.admin("approve", m.group(1), "--owner", "alice");
      assertThat(login.waitFor(Duration.ofSeconds(60))).as(login.output()).isZero();
      assertThat(login.output()).contains("Device enrolled as ");
    }
  }

  /** {@code run} in the background, once it serves its socket. */
  Proc runDaemon(Map<String, String> extraEnv) throws Exception {
    Proc run = start(extraEnv, "run");
    run.awaitLines(l -> l.startsWith("device-agent running:"), 1, Duration.ofSeconds(60));
    return run;
  }

  static boolean isRefresh(String line) {
    return line.contains("tokens refreshed");
  }
}
