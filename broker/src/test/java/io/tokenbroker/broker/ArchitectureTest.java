package io.tokenbroker.broker;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The OAuth state machines and use cases stay free of transport, SQL and provider internals: concern packages
 * never import gRPC, generated protos, JDBC or SunPKCS11 internals. Only {@code api}, {@code store},
 * {@code cli} and the composition root may.
 */
class ArchitectureTest {
  private static final Path SOURCES = Path.of("src/main/java/io/tokenbroker/broker");
  private static final List<String> CONCERNS = List.of("audit", "client", "device", "grant", "keys", "oauth",
      "refresh", "token");
  private static final List<String> FORBIDDEN = List.of("import io.grpc", "import io.tokenbroker.proto",
      "import java.sql", "import sun.security.pkcs11", "import io.tokenbroker.broker.store",
      "import io.tokenbroker.broker.api");

  @Test
  void concernPackagesImportNoTransportSqlOrProviderInternals() throws IOException {
    List<String> violations = new ArrayList<>();
    int files = 0;
    for (String concern : CONCERNS) {
      try (Stream<Path> sources = Files.walk(SOURCES.resolve(concern))) {
        for (Path file : sources.filter(p -> p.toString().endsWith(".java")).toList()) {
          files++;
          for (String line : Files.readAllLines(file)) {
            if (FORBIDDEN.stream().anyMatch(line::startsWith)) {
              violations.add(SOURCES.relativize(file) + ": " + line);
            }
          }
        }
      }
    }
    assertThat(files).isGreaterThan(20);
    assertThat(violations).isEmpty();
  }
}
