package io.tokenbroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A broker home made with {@code bin/broker init} and served by {@code bin/broker serve} as a process. */
final class BrokerHome implements AutoCloseable {
  private static final Pattern READY = Pattern.compile("broker ready: grpc=[^:]+:(\\d+)(?: \\(plaintext\\))? https=[^:]+:(\\d+)");

  final Path home;
  private Proc serve;
  int grpcPort;
  int httpsPort;

  BrokerHome(Path home) {
    this.home = home;
  }

  static BrokerHome initAndServe(Path home) throws Exception {
    BrokerHome b = new BrokerHome(home);
    Proc.Result init = b.broker("init", "--home", home.toString(), "--grpc-port", "0", "--https-port", "0");
    assertThat(init.exitCode()).as(init.output()).isZero();
    // Short polls keep the device flow quick in tests.
    Files.writeString(home.resolve("broker.properties"), "\ndevice.poll-interval=PT1S\n", StandardOpenOption.APPEND);
    b.serve();
    return b;
  }

  void serve() throws Exception {
    serve = Proc.start(Map.of(), List.of(Proc.ROOT.resolve("bin/broker").toString(), "serve", "--home",
        home.toString()));
    String ready = serve.awaitLines(l -> READY.matcher(l).find(), 1, Duration.ofSeconds(90));
    Matcher m = READY.matcher(ready);
    assertThat(m.find()).isTrue();
    grpcPort = Integer.parseInt(m.group(1));
    httpsPort = Integer.parseInt(m.group(2));
  }

  Proc.Result broker(String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(Proc.ROOT.resolve("bin/broker").toString()));
    command.addAll(List.of(args));
    return Proc.run(Map.of(), command);
  }

  /** {@code broker admin ARGS --home HOME}, which must succeed. */
  String admin(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("admin"));
    all.addAll(List.of(args));
    all.addAll(List.of("--home", home.toString(), "--target", "localhost:" + grpcPort));
    Proc.Result r = broker(all.toArray(String[]::new));
    assertThat(r.exitCode()).as("broker admin " + String.join(" ", args) + ":\n" + r.output()).isZero();
    return r.output();
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
