package io.tokenbroker.broker.hsm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.tokenbroker.broker.BrokerFailure;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HsmPinTest {
  @TempDir Path dir;

  private Path pinFile(String content, String mode) throws Exception {
    Path f = dir.resolve("pin");
    Files.writeString(f, content);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
    return f;
  }

  @Test
  void resolveWhenEnvironmentVariableSetThenItWinsOverTheFile() throws Exception {
    HsmPin pin = HsmPin.resolve("PIN_VAR", pinFile("from-file\n", "rw-------"), Map.of("PIN_VAR", "from-env"));
    assertThat(new String(pin.copy())).isEqualTo("from-env");
    assertThat(pin.source()).isEqualTo("environment variable PIN_VAR");
  }

  @Test
  void resolveWhenOnlyFileThenTrailingNewlineIsStripped() throws Exception {
    HsmPin pin = HsmPin.resolve("PIN_VAR", pinFile("12345678\n", "rw-------"), Map.of());
    assertThat(new String(pin.copy())).isEqualTo("12345678");
  }

  @Test
  void resolveWhenFileReadableByOthersThenRefusedWithChmodCommand() throws Exception {
    Path f = pinFile("12345678", "rw-r--r--");
    assertThatThrownBy(() -> HsmPin.resolve("PIN_VAR", f, Map.of()))
        .isInstanceOf(BrokerFailure.class)
        .hasMessageContaining("chmod 600 " + f)
        .hasMessageNotContaining("12345678");
  }

  @Test
  void resolveWhenNoFileAndNoVariableThenNamesBothWaysToGiveIt() {
    assertThatThrownBy(() -> HsmPin.resolve("PIN_VAR", null, Map.of()))
        .isInstanceOf(BrokerFailure.class)
        .hasMessageContaining("PIN_VAR").hasMessageContaining("hsm.pin-file");
  }

  @Test
  void resolveWhenFileEmptyThenRefused() throws Exception {
    Path f = pinFile("\n", "rw-------");
    assertThatThrownBy(() -> HsmPin.resolve("PIN_VAR", f, Map.of())).hasMessageContaining("1 to 256 characters");
  }

  @Test
  void toStringNeverShowsThePin() throws Exception {
    HsmPin pin = HsmPin.resolve("PIN_VAR", pinFile("s3cret-pin", "rw-------"), Map.of());
    assertThat(pin.toString()).doesNotContain("s3cret-pin").contains("redacted");
  }

  @Test
  void wipeOverwritesThePinInMemory() throws Exception {
    HsmPin pin = HsmPin.resolve("PIN_VAR", pinFile("s3cret-pin", "rw-------"), Map.of());
    pin.wipe();
    assertThat(new String(pin.copy())).doesNotContain("s3cret");
  }
}
