package io.tokenbroker.agent.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's device agent configuration table is the operator's reference: every key and default is in it. */
class ConfigReferenceDocumentedTest {
  @Test
  void everyConfigKeyHasARowWithItsDefaultInTheDeviceOperatorGuide() throws Exception {
    String readme = Files.readString(Path.of("").toAbsolutePath().getParent().resolve("README.md"));
    String guide = readme.substring(readme.indexOf("## Device operator guide"));
    for (ConfigKey key : ConfigKey.values()) {
      assertThat(guide).as("README row for %s", key.key()).contains("| `" + key.key() + "` |");
      if (key.defaultValue() != null) {
        assertThat(guide).as("README default of %s", key.key())
            .contains("| `" + key.key() + "` | `" + key.defaultValue() + "` |");
      }
    }
  }
}
