package io.tokenbroker.broker.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/** The {@code --home DIR} option every command shares. */
final class HomeOption {
  @Option(names = "--home", required = true, paramLabel = "DIR",
      description = "Broker home: broker.properties, database, dev token and TLS files.")
  Path home;

  Path path() {
    return home.toAbsolutePath().normalize();
  }
}
