package io.tokenbroker.broker.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The README's configuration table and the sample {@code broker.properties} shipped in the archive are the
 * operator's reference: every setting the broker reads is in both, with its default, and nothing else is.
 */
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

  @Test
  void theShippedSampleListsEverySettingWithItsDefaultAndNothingElse() throws Exception {
    // When this fails after a change to ConfigKey, regenerate it: packaging/broker/generate-sample-config
    Path sample = Path.of("").toAbsolutePath().getParent().resolve("packaging/broker/broker.properties.sample");
    java.util.Map<String, String> listed = new java.util.TreeMap<>();
    for (String line : Files.readAllLines(sample)) {
      // Settings are commented out: "#key=default". Prose comments have a space after '#'.
      if (line.matches("#[a-z][a-z0-9.-]*=.*")) {
        listed.put(line.substring(1, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
      }
    }
    java.util.Map<String, String> expected = new java.util.TreeMap<>();
    for (ConfigKey key : ConfigKey.values()) {
      expected.put(key.key(), key.defaultValue() == null ? "" : key.defaultValue());
    }
    assertThat(listed).isEqualTo(expected);
  }
}
