package io.tokenbroker.broker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's configuration table is the operator's reference: every setting the broker reads is in it. */
class ConfigReferenceDocumentedTest {
  @Test
  void everyConfigKeyHasARowInTheReadmeTable() throws Exception {
    String readme = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("README.md"));
    for (ConfigKey key : ConfigKey.values()) {
      assertThat(readme).as("README row for %s", key.key()).contains("| `" + key.key() + "` |");
      if (key.defaultValue() != null) {
        assertThat(readme).as("README default of %s", key.key())
            .contains("| `" + key.key() + "` | `" + key.defaultValue() + "` |");
      }
    }
  }
}
