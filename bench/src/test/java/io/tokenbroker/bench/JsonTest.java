package io.tokenbroker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void writesNestedValuesWithEscapes() {
    String json = Json.write(Json.obj("a", "q\"uo\\te\n", "n", 1.5, "i", 3L, "nan", Double.NaN, "l", List.of(1, 2),
        "m", Json.obj("x", true, "y", null), "empty", List.of()));
    assertThat(json).contains("\"a\": \"q\\\"uo\\\\te\\n\"").contains("\"n\": 1.5").contains("\"i\": 3")
        .contains("\"nan\": null").contains("\"l\": [1, 2]").contains("\"x\": true").contains("\"y\": null")
        .contains("\"empty\": []");
  }
}
