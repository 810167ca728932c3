package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A broker home made with {@code bin/broker init} and served by {@code bin/broker serve} as a process. */
final class BrokerHome implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("broker ready: grpc=[^:]+:(\\d+)(?: \\(plaintext\\))? https=[^:]+:(\\d+)");

  final Path home;
  /** Extra environment of every broker command, e.g. {@code TOKENBROKER_JAVA_OPTS}. */
  final Map<String, String> env = new HashMap<>();
  /** What every command of this home printed, in order: {@code init}, {@code admin ...}, not {@code serve}. */
  final List<CommandOutput> outputs = new ArrayList<>();
  private Proc serve;
  int grpcPort;
  int httpsPort;

  BrokerHome(Path home) {
    this.home = home;
  }

  static BrokerHome initAndServe(Path home) throws Exception {
    return initAndServe(home, Map.of());
  }

  /** As {@link #initAndServe(Path)}, every command run with {@code env} added to its environment. */
  static BrokerHome initAndServe(Path home, Map<String, String> env) throws Exception {
    BrokerHome b = new BrokerHome(home);
    b.env.putAll(env);
    Proc.Result init = b.broker("init", "--home", home.toString(), "--grpc-port", "0", "--https-port", "0");
    assertThat(init.exitCode()).as(init.output()).isZero();
    // Short polls keep the device flow quick in tests.
    Files.writeString(home.resolve("broker.properties"), "\ndevice.poll-interval=PT1S\n", StandardOpenOption.APPEND);
    b.serve();
    return b;
  }

  void serve() throws Exception {
    serve = Proc.start(env, List.of(Proc.ROOT.resolve("bin/broker").toString(), "serve", "--home",
        home.toString()));
    String ready = serve.awaitLines(l -> READY.matcher(l).find(), 1, Duration.ofSeconds(90));
    Matcher m = READY.matcher(ready);
    assertThat(m.find()).isTrue();
    grpcPort = Integer.parseInt(m.group(1));
    httpsPort = Integer.parseInt(m.group(2));
  }

  Proc.Result broker(String... args) throws Exception {
    return broker(Map.of(), args);
  }

  Proc.Result broker(Map<String, String> extraEnv, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Proc.ROOT.resolve("bin/broker").toString()));
    command.addAll(List.of(args));
    Map<String, String> all = new HashMap<>(env);
    all.putAll(extraEnv);
    Proc.Result result = Proc.run(all, command);
    outputs.add(new CommandOutput("broker " + String.join(" ", args).split(" --home")[0], result.output()));
    return result;
  }

  /** A command (its arguments up to {@code --home}) and its merged stdout and stderr. */
  record CommandOutput(String command, String output) {}

  /** {@code broker admin ARGS --home HOME}, which must succeed. */
  String admin(String... args) throws Exception {
    return admin(Map.of(), args);
  }

  String admin(Map<String, String> extraEnv, String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("admin"));
    all.addAll(List.of(args));
    all.addAll(List.of("--home", home.toString(), "--target", "localhost:" + grpcPort));
    Proc.Result r = broker(extraEnv, all.toArray(String[]::new));
    assertThat(r.exitCode()).as("broker admin " + String.join(" ", args) + ":\n" + r.output()).isZero();
    return r.output();
  }

  /** Everything {@code serve} printed so far (stdout and stderr). */
  String serveOutput() {
    return serve.output();
  }

  /** SIGTERM to {@code serve}, as an init system stops it; returns its exit code. */
  int stop() throws InterruptedException {
    return serve.stop();
  }

  Path caFile() {
    return home.resolve("tls/ca.crt");
  }

  @Override
  public void close() throws Exception {
    if (serve != null) {
      serve.close();
    }
  }
}
