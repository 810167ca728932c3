package io.tokenbroker.broker.logging;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class RequestIdsTest {
  @Test
  void acceptOrCreateWhenShortAndSafeThenKeptElseReplacedByANewId() {
    assertThat(RequestIds.acceptOrCreate("3f1c2a9e-7d4b-4c1a-9f00-1234567890ab"))
        .isEqualTo("3f1c2a9e-7d4b-4c1a-9f00-1234567890ab");
    assertThat(RequestIds.acceptOrCreate("lb:node-1.42_A")).isEqualTo("lb:node-1.42_A");
    for (String unsafe : new String[] {null, "", "a b", "x\ny", "quote\"", "{json}", "a".repeat(65), "é"}) {
      assertThat(RequestIds.acceptOrCreate(unsafe)).as("%s", unsafe).matches("[0-9a-z]{20}");
    }
  }

  @Test
  void createWhenCalledTwiceThenDifferentIds() {
    assertThat(RequestIds.create()).isNotEqualTo(RequestIds.create());
  }

  @Test
  void enterWhenClosedThenThePreviousValueIsBack() {
    try (RequestIds.Scope outer = RequestIds.enter("outer")) {
      try (RequestIds.Scope inner = RequestIds.enter("inner")) {
        assertThat(MDC.get(RequestIds.MDC_KEY)).isEqualTo("inner");
      }
      assertThat(MDC.get(RequestIds.MDC_KEY)).isEqualTo("outer");
    }
    assertThat(MDC.get(RequestIds.MDC_KEY)).isNull();
  }
}
