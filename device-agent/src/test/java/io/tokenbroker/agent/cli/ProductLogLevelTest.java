package io.tokenbroker.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ProductLogLevelTest {
  @Test
  void namesALevelInAnyCaseOrNothing() {
    assertThat(ProductLogLevel.parse(" DEBUG ")).contains("debug");
    assertThat(ProductLogLevel.parse("warn")).contains("warn");
    assertThat(ProductLogLevel.parse(null)).isEmpty();
    assertThat(ProductLogLevel.parse("")).isEqualTo(Optional.empty());
  }

  @Test
  void refusesAnythingElseInsteadOfIgnoringIt() {
    assertThatThrownBy(() -> ProductLogLevel.parse("verbose")).isInstanceOf(IllegalArgumentException.class)
        .hasMessage("DEVICE_AGENT_LOG_LEVEL must be one of trace, debug, info, warn, error");
  }

  @Test
  void setsTheLevelOfTheProductsLoggerTreeOnlyAndLetsAnExplicitPropertyWin() {
    String before = System.clearProperty(ProductLogLevel.PROPERTY);
    try {
      ProductLogLevel.apply(Map.of("DEVICE_AGENT_LOG_LEVEL", "debug"));
      assertThat(System.getProperty("org.slf4j.simpleLogger.log.io.tokenbroker")).isEqualTo("debug");
      assertThat(System.getProperty("org.slf4j.simpleLogger.defaultLogLevel")).isNull();

      System.setProperty(ProductLogLevel.PROPERTY, "warn");
      ProductLogLevel.apply(Map.of("DEVICE_AGENT_LOG_LEVEL", "trace"));
      assertThat(System.getProperty(ProductLogLevel.PROPERTY)).isEqualTo("warn");
    } finally {
      System.clearProperty(ProductLogLevel.PROPERTY);
      if (before != null) {
        System.setProperty(ProductLogLevel.PROPERTY, before);
      }
    }
  }
}
