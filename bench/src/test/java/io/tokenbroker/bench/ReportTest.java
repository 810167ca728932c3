package io.tokenbroker.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReportTest {
  @Test
  void markdownCarriesTheSameNumbersAsTheJson() {
    Map<String, Object> cell = Json.obj("concurrency", 32, "per_s", 1234.5, "p50_ms", 20.1, "p95_ms", 40.2,
        "p99_ms", 60.3, "max_ms", 99.9, "errors", 0, "server_cpu_us_per_op", 1500.0,
        "server_storage_write_kib_per_op", 50.0, "server_cores_busy", 1.8, "server_jit_cores_busy", 0.1,
        "server_gc_cores_busy", 0.05, "loadgen_cores_busy", 0.3,
        "other_cores_busy", 0.5, "other_top_processes", "java[1] 0.45");
    Map<String, Object> results = Json.obj(
        "generated_at", "2026-01-01T00:00:00Z",
        "ceiling", Json.obj("sign_t1_per_s", 10000.0, "sign_t2_per_s", 14000.0, "verify_t1_per_s", 10000.0,
            "verify_t2_per_s", 19000.0, "sign_cpu_us", 100.0, "verify_cpu_us", 100.0, "sign_t1_cpu_us", 99.0,
            "verify_t1_cpu_us", 98.0, "cores", 2, "ceiling_grants_per_s", 10000L),
        "broker", Json.obj("refresh", List.of(cell)),
        "derived", Json.obj("refresh_concurrency", 32, "refresh_per_s", 1234.5, "fraction_of_ceiling", 0.123,
            "broker_cpu_us_per_token", 1500.0, "crypto_cpu_us_per_token", 200.0, "crypto_share_of_broker_cpu", 0.133,
            "broker_only_rate_bound_per_s", 1333L),
        "peer", Json.obj("status", "skipped", "reason", "--no-peer"),
        "notes", List.of("a note"));
    String md = Report.markdown(results);
    assertThat(md).contains("| 32 | 1,235 | 20.1 | 40.2 | 60.3 | 99.9 | 0 | 1500.0 | 50.0 | 1.8 (0.1, 0.05) | 0.3 | 0.5 |")
        .contains("10,000 grants/s").contains("12.3% of the crypto ceiling").contains("Peer skipped: --no-peer")
        .contains("- a note").contains("java[1] 0.45");
  }
}
