package io.tokenbroker.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the results as JSON and as a Markdown page with the same numbers. */
final class Report {
  private Report() {}

  static void write(Path dir, String name, Map<String, Object> results) throws IOException {
    Files.createDirectories(dir);
    replace(dir.resolve(name + ".json"), Json.write(results));
    replace(dir.resolve(name + ".md"), markdown(results));
  }

  private static void replace(Path target, String text) throws IOException {
    Path tmp = target.resolveSibling(target.getFileName() + ".tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /** Cells disturbed by other processes, collected while rendering (one report at a time). */
  private static final ThreadLocal<List<String>> DISTURBED = ThreadLocal.withInitial(java.util.ArrayList::new);

  @SuppressWarnings("unchecked")
  static String markdown(Map<String, Object> r) {
    DISTURBED.get().clear();
    StringBuilder md = new StringBuilder();
    md.append("# tokenbroker benchmark: latest run\n\n");
    md.append("Generated ").append(r.get("generated_at")).append(" by `bench/run`");
    if (r.get("total_seconds") != null) {
      md.append(" (").append(r.get("total_seconds")).append(" s for the measurements, build excluded)");
    }
    md.append(". Closed loop over loopback: every virtual device sends its next request when the previous one "
        + "has been answered, over gRPC with TLS, with a fresh ES256 DPoP proof per request; refresh tokens "
        + "rotate on every use. The load generator shares the machine's cores with the server, so the server's "
        + "CPU time per token (utime+stime of its JVM from /proc over the measured window) is the fair figure. "
        + "The same numbers are in `latest.json`.\n\n");

    Map<String, Object> m = map(r.get("machine"));
    if (m != null) {
      md.append("## Machine\n\n| cores | CPU | memory | OS | kernel | JDK | SoftHSM |\n|---|---|---|---|---|---|---|\n");
      md.append(row(m.get("cores"), m.get("cpu"), m.get("memory_mib") + " MiB", m.get("os"), m.get("kernel"),
          m.get("jdk"), m.get("softhsm")));
      md.append('\n');
    }
    Map<String, Object> b = map(r.get("broker_build"));
    if (b != null) {
      md.append("Broker under test: `").append(b.get("jar")).append("` (sha256 ").append(b.get("jar_sha256_12"))
          .append("…, built ").append(b.get("jar_modified")).append("), repository HEAD ").append(b.get("git_head"))
          .append(Boolean.TRUE.equals(b.get("broker_sources_modified_since_head"))
              ? " with uncommitted changes under broker/, proto/ or verifier/ at run time" : "")
          .append(".\n\n");
    }

    Map<String, Object> s = map(r.get("settings"));
    Map<String, Object> broker = map(r.get("broker"));
    if (broker != null) {
      md.append("## Refresh grant on the broker (DPoP, rotating refresh token)\n\n");
      if (s != null) {
        if (broker.get("jit_warmup_s") != null) {
          md.append("First ").append(broker.get("jit_warmup_s")).append(" s of uncounted load at c=8 (JIT). ");
        }
        md.append("Per level: ").append(s.get("warmup_s")).append(" s warm-up (not counted), then ")
            .append(s.get("measure_s")).append(" s measured. One gRPC/TLS connection and one P-256 key per "
                + "device; every device enrolled through the real device flow first.\n\n");
      }
      md.append(CELL_HEADER);
      for (Object c : list(broker.get("refresh"))) {
        md.append(cellRow(map(c)));
      }
      md.append('\n');
      Map<String, Object> flow = map(broker.get("device_flow"));
      if (flow != null) {
        md.append("## Device-code grant end to end (broker)\n\n")
            .append("One flow = StartDeviceAuthorization, ApproveDeviceAuthorization (operator over mutual TLS), "
                + "Token with the device code and a DPoP proof from a new key; rate in flows (= first token "
                + "pairs) per second, latency of the whole flow, CPU per flow.\n\n");
        md.append(CELL_HEADER.replace("tokens/s", "flows/s").replace("/token", "/flow"));
        md.append(cellRow(flow));
        md.append('\n');
      }
      md.append("Broker resident memory: ").append(broker.get("rss_mib_after_start")).append(" MiB after start, ")
          .append(broker.get("rss_mib_after_load")).append(" MiB after the load.\n\n");
      if (broker.get("error") != null) {
        md.append("**Broker phase error:** ").append(broker.get("error")).append("\n\n");
      }
    }

    Map<String, Object> c = map(r.get("ceiling"));
    if (c != null) {
      md.append("## Crypto ceiling (measured in the same run)\n\n");
      if (c.get("error") != null) {
        md.append("**Error:** ").append(c.get("error")).append("\n\n");
      } else {
        md.append("| operation | 1 thread, ops/s | 2 threads, ops/s | CPU per op = 1 / (1-thread ops/s) | "
            + "thread CPU per op (measured, 1 thread) |\n|---|---|---|---|---|\n");
        md.append(row("ES256 sign, SoftHSM2 token via SunPKCS11 (`SHA256withECDSAinP1363Format`)",
            num(c.get("sign_t1_per_s")), num(c.get("sign_t2_per_s")), c.get("sign_cpu_us") + " µs",
            c.get("sign_t1_cpu_us") + " µs"));
        md.append(row("ES256 verify, Bouncy Castle with a BC key object", num(c.get("verify_t1_per_s")),
            num(c.get("verify_t2_per_s")), c.get("verify_cpu_us") + " µs", c.get("verify_t1_cpu_us") + " µs"));
        md.append("\nEach cell: ").append("on CPU ").append(c.get("sign_t1_on_cpu")).append(" / ")
            .append(c.get("sign_t2_on_cpu")).append(" / ").append(c.get("verify_t1_on_cpu")).append(" / ")
            .append(c.get("verify_t2_on_cpu")).append(" of the window per thread (sign 1, sign 2, verify 1, verify 2; "
                + "below 1 with 2 threads is lock contention in the provider), other processes ")
            .append(c.get("sign_t1_other_cores")).append(" / ").append(c.get("sign_t2_other_cores")).append(" / ")
            .append(c.get("verify_t1_other_cores")).append(" / ").append(c.get("verify_t2_other_cores"))
            .append(" cores (a cell with more than 0.15, or a single thread off CPU, is measured again, at most "
                + "3 times).\n");
        md.append("\nCeiling for one grant (one HSM signature + one proof verification) = ")
            .append(c.get("cores")).append(" cores / (").append(c.get("sign_cpu_us")).append(" + ")
            .append(c.get("verify_cpu_us")).append(" µs) = **").append(num(c.get("ceiling_grants_per_s")))
            .append(" grants/s** (from the threads' own CPU time per operation: ")
            .append(num(c.get("ceiling_from_thread_cpu_per_s"))).append(").\n\n");
      }
    }
    Map<String, Object> d = map(r.get("derived"));
    if (d != null) {
      md.append(String.format(Locale.ROOT, "Refresh at c=%s: **%s tokens/s = %.1f%% of the crypto ceiling**. "
              + "Broker CPU per token %s µs, of which the two signature operations are %s µs (%.0f%%). At that "
              + "CPU cost the broker alone on %s cores could reach at most about %s tokens/s, if CPU were its only "
              + "limit (work serialised on one thread, such as a single commit writer, caps it lower).%n%n",
          d.get("refresh_concurrency"), num(d.get("refresh_per_s")),
          ((Number) d.get("fraction_of_ceiling")).doubleValue() * 100, d.get("broker_cpu_us_per_token"),
          d.get("crypto_cpu_us_per_token"), pct(d.get("crypto_share_of_broker_cpu")),
          c == null ? "?" : c.get("cores"), num(d.get("broker_only_rate_bound_per_s"))));
    }

    Map<String, Object> v = map(r.get("verifier"));
    if (v != null) {
      md.append("## Verifier library: access token + DPoP proof per request\n\n");
      if (v.get("error") != null) {
        md.append("**Error:** ").append(v.get("error")).append("\n\n");
      } else {
        md.append("`TokenVerifier.verify` of a DPoP-bound RFC 9068 access token (ES256) and its DPoP proof: both "
            + "signatures, the claims, the `cnf.jkt` binding, `ath`, the replay cache (every proof is new) and the "
            + "revocation lookup; 64 devices, keys already fetched. In a JVM of its own, next to the floor it "
            + "cannot go below: the same two ES256 verifications done bare with Bouncy Castle, round robin over "
            + "the same 64 device keys, measured right before and right after each cell and averaged (the "
            + "machine's speed drifts within a run).\n\n"
            + "| threads | verifications/s | thread CPU per request | two raw ES256 verifies/s | verifier / raw |\n"
            + "|---|---|---|---|---|\n");
        for (int t : new int[] {1, 2}) {
          md.append(row(t, num(v.get("verifier_t" + t + "_per_s")), v.get("verifier_t" + t + "_cpu_us") + " µs",
              num(v.get("raw_t" + t + "_per_s")), String.format(Locale.ROOT, "**%.0f%%**",
                  ((Number) v.get("fraction_of_raw_t" + t)).doubleValue() * 100)));
        }
        md.append('\n');
      }
    }
    Map<String, Object> jmh = map(r.get("micro"));
    if (jmh != null) {
      md.append("## Hot paths (JMH)\n\n");
      if (jmh.get("error") != null) {
        md.append("**Error:** ").append(jmh.get("error")).append("\n\n");
      } else {
        md.append("`HotPathBenchmarks`: JMH, average time per operation on one thread, one fork, 2 × 1 s warm-up "
            + "and 3 × 1 s measured iterations each (± is JMH's 99.9% error). The broker's own classes mint on a "
            + "SoftHSM2 token; the verifier library's validators check one ES256 token and proof.\n\n"
            + "| operation | µs/op | what it explains |\n|---|---|---|\n");
        md.append(microRow(jmh, "mintAccessToken", "`AccessTokenIssuer.issue`: claims, JSON, base64url, HSM signature",
            "the broker's minting; minus the next row = what it adds around the HSM"));
        md.append(microRow(jmh, "hsmSign", "ES256 signature in SoftHSM2 through SunPKCS11 (broker key object)",
            "the signing floor"));
        md.append(microRow(jmh, "validateDpopProof", "`DpopProofValidator.validate` (RFC 9449 §4.3)",
            "per grant in the broker, per request in a backend; minus the raw verify = parsing and checks"));
        md.append(microRow(jmh, "validateAccessToken", "`AccessTokenValidator.validate` (RFC 9068 §4), key lookup "
            + "included", "per request in a backend"));
        md.append(microRow(jmh, "lookUpSigningKey", "`SigningKeyCache.verifierFor` (JWKS cache hit)",
            "the key lookup inside the previous row"));
        md.append(microRow(jmh, "verifyEs256Raw", "one bare ES256 verification, Bouncy Castle provider",
            "the verification floor"));
        md.append('\n');
      }
    }
    Map<String, Object> a = map(r.get("agent"));
    if (a != null) {
      md.append("## Device agent footprint\n\n");
      if (a.get("error") != null) {
        md.append("**Error:** ").append(a.get("error")).append("\n\n");
      } else {
        md.append("`bin/device-agent` with its default JVM options (`-Xmx32m`, serial GC, C1 only, see the launcher), "
            + "DPoP key and store key in a SoftHSM2 token of its own, enrolled by `login` (approved with "
            + "`broker admin approve`), then `run` against a broker on loopback with 30 s access tokens refreshed at "
            + "5% of their lifetime: every cycle rotates the refresh token and writes the sealed state.\n\n"
            + "| runnable jar | start of `run` to first token | refresh cycles | resident memory after them "
            + "(anon + file) | peak resident | threads | CPU over the cycles |\n|---|---|---|---|---|---|---|\n");
        md.append(row(String.format(Locale.ROOT, "%.1f MiB", ((Number) a.get("jar_bytes")).longValue() / 1048576.0),
            a.get("start_to_first_token_ms") + " ms", a.get("refresh_cycles") + " in " + a.get("run_seconds") + " s",
            String.format(Locale.ROOT, "**%s MiB** (%s + %s)", a.get("rss_mib"), a.get("rss_anon_mib"),
                a.get("rss_file_mib")), a.get("rss_peak_mib") + " MiB", a.get("threads"),
            a.get("cores_busy") + " cores"));
        md.append('\n');
      }
    }
    List<Object> scale = list(r.get("scale"));
    if (!scale.isEmpty() || (r.get("scale") instanceof Map)) {
      md.append("## Scale: refresh rate with many families already in the store\n\n");
      if (s != null) {
        md.append("Fresh home per row; devices, refresh families and one active refresh token each bulk-loaded "
            + "into the H2 file while the broker was stopped; then the broker served and ")
            .append(s.get("scale_concurrency")).append(" real devices enrolled and refreshed (")
            .append(s.get("scale_warmup_s")).append(" s warm-up + ").append(s.get("scale_measure_s"))
            .append(" s measured; the warm-up runs at c=8 for the JIT, then 5 s at c=")
            .append(s.get("scale_concurrency")).append("). Each row is a freshly started broker JVM with the same warm-up, so the rows "
                + "compare with each other; the refresh table above ran on a JVM with more load behind it.\n\n");
      }
      md.append("| families in store | seeding | H2 file | c | tokens/s | p50 ms | p95 ms | p99 ms | max ms | errors "
          + "| broker CPU µs/token | broker KiB written/token | broker cores busy (JIT, GC) | other cores busy |\n"
          + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
      for (Object o : scale) {
        Map<String, Object> row = map(o);
        Map<String, Object> cell = map(row.get("refresh"));
        String seeded = row.get("families_seeded") == null ? "-" : num(row.get("families_seeded"));
        if (row.get("families_seeded") != null && !row.get("families_seeded").equals(row.get("families_requested"))) {
          seeded += " (asked " + num(row.get("families_requested")) + ")";
        }
        String seeding = row.get("seed_seconds") == null ? "-"
            : row.get("seed_seconds") + " s (" + num(row.get("seed_families_per_s")) + "/s)";
        if (cell == null) {
          md.append(row(seeded, seeding, "-", "-", "-", "-", "-", "-", "-", "-",
              row.getOrDefault("error", row.getOrDefault("skipped", "-")), "-", "-", "-"));
        } else {
          md.append(row(seeded, seeding, row.get("db_mib") + " MiB", cell.get("concurrency"), num(cell.get("per_s")),
              cell.get("p50_ms"), cell.get("p95_ms"), cell.get("p99_ms"), cell.get("max_ms"), cell.get("errors"),
              cell.get("server_cpu_us_per_op"), cell.get("server_storage_write_kib_per_op"),
              cell.get("server_cores_busy") + " (" + cell.get("server_jit_cores_busy") + ", "
                  + cell.get("server_gc_cores_busy") + ")", cell.get("other_cores_busy")));
        }
      }
      md.append('\n');
    }

    Map<String, Object> p = map(r.get("peer"));
    if (p != null) {
      md.append("## Peer: Keycloak\n\n");
      if (!"measured".equals(p.get("status"))) {
        md.append("Peer ").append(p.get("status")).append(": ").append(p.get("reason")).append(".\n\n");
      } else {
        md.append("Keycloak ").append(p.get("version")).append(" (`kc.sh start-dev` on 127.0.0.1, JDK ")
            .append(p.get("java_home")).append("), realm as in PEERS.md (ES256, rotation with "
                + "refreshTokenMaxReuse=0, access token 300 s), ready ").append(p.get("ready_after_s"))
            .append(" s after start. Same loop shape over HTTP/1.1 keep-alive: one rotating chain and one DPoP "
                + "key per worker, a fresh proof per request; first refresh token from the password grant. "
                + "Warm-up: **").append(p.get("warmup_s")).append(" s** at c=8, then ")
            .append(s == null ? "?" : s.get("peer_level_warmup_s")).append(" s per level before ")
            .append(s == null ? "?" : s.get("peer_measure_s")).append(" s measured.");
        if (p.get("warmup_s") instanceof Number w && w.doubleValue() < 240) {
          md.append(" PEERS.md: Keycloak needs about 4 minutes of warm-up on 2 cores (up to 2x lower after 30 s), "
              + "so these figures are a lower bound for Keycloak.");
        }
        md.append("\n\n");
        md.append(CELL_HEADER.replace("broker ", "server "));
        for (Object o : list(p.get("refresh"))) {
          md.append(cellRow(map(o)));
        }
        md.append("\nKeycloak resident memory after the load: ").append(p.get("rss_mib_after_load")).append(" MiB.\n\n");
      }
    }

    List<Object> notes = list(r.get("notes"));
    md.append("## Notes\n\n");
    md.append("- Latency percentiles are exact (nearest rank over all samples of the window, sorted); only "
        + "requests completing inside the window count.\n");
    md.append("- Errors are counted per kind in `latest.json` (`error_kinds`); a device whose refresh failed "
        + "enrols again before its next request.\n");
    md.append("- `load-gen cores busy` is the load generator's own CPU over the window (it makes one ES256 "
        + "proof per request with Bouncy Castle).\n");
    md.append("- `KiB written/token` is the server's storage writes (`write_bytes` of /proc/PID/io) over the "
        + "window per token: what each committed grant costs the database file.\n");
    md.append("- `cores busy (JIT, GC)`: the server's CPU over the window in cores, and how much of it its JIT "
        + "compiler threads and garbage-collector threads used (per-thread times from /proc/PID/task); a JIT "
        + "figure well above zero means the JVM was not yet in steady state.\n");
    md.append("- `other cores busy` is the CPU the rest of the machine used during the window (other processes, "
        + "interrupts): above ~0.1 the cell was disturbed by something outside the benchmark.\n");
    for (Object n : notes) {
      md.append("- ").append(n).append('\n');
    }
    if (!DISTURBED.get().isEmpty()) {
      md.append("- Cells with more than 0.1 core used by other processes during the window (kernel threads "
          + "such as kworker include the broker's own disk writeback): ")
          .append(String.join("; ", DISTURBED.get())).append(".\n");
    }
    return md.toString();
  }

  private static final String CELL_HEADER = "| c | tokens/s | p50 ms | p95 ms | p99 ms | max ms | errors "
      + "| broker CPU µs/token | broker KiB written/token | broker cores busy (JIT, GC) | load-gen cores busy "
      + "| other cores busy |\n|---|---|---|---|---|---|---|---|---|---|---|---|\n";

  private static String cellRow(Map<String, Object> cell) {
    if (cell == null) {
      return "";
    }
    if (cell.get("other_cores_busy") instanceof Number n && n.doubleValue() > 0.1) {
      Object top = cell.get("other_top_processes");
      DISTURBED.get().add("c=" + cell.get("concurrency") + " at " + num(cell.get("per_s")) + "/s: other "
          + cell.get("other_cores_busy") + " cores"
          + (top == null || top.toString().isEmpty() ? " (no single process above 0.02)" : " (" + top + ")"));
    }
    return row(cell.get("concurrency"), num(cell.get("per_s")), cell.get("p50_ms"), cell.get("p95_ms"),
        cell.get("p99_ms"), cell.get("max_ms"), cell.get("errors") + errorKinds(cell),
        cell.get("server_cpu_us_per_op"), cell.get("server_storage_write_kib_per_op"),
        cell.get("server_cores_busy") + " (" + cell.get("server_jit_cores_busy") + ", " + cell.get("server_gc_cores_busy")
            + ")",
        cell.get("loadgen_cores_busy"),
        cell.get("other_cores_busy"));
  }

  private static String errorKinds(Map<String, Object> cell) {
    Map<String, Object> kinds = map(cell.get("error_kinds"));
    if (kinds == null || kinds.isEmpty()) {
      return "";
    }
    return " (" + String.join(", ", kinds.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).toList())
        + ")";
  }

  private static String row(Object... cells) {
    StringBuilder sb = new StringBuilder("|");
    for (Object c : cells) {
      sb.append(' ').append(c == null ? "-" : String.valueOf(c).replace("|", "\\|")).append(" |");
    }
    return sb.append('\n').toString();
  }

  private static String num(Object o) {
    if (!(o instanceof Number n)) {
      return String.valueOf(o);
    }
    double v = n.doubleValue();
    if (v >= 100 || v == Math.rint(v)) {
      return String.format(Locale.ROOT, "%,d", Math.round(v));
    }
    return String.format(Locale.ROOT, "%.1f", v);
  }

  private static double pct(Object o) {
    return o instanceof Number n ? n.doubleValue() * 100 : Double.NaN;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> map(Object o) {
    return o instanceof Map<?, ?> m ? (Map<String, Object>) m : null;
  }

  @SuppressWarnings("unchecked")
  private static List<Object> list(Object o) {
    return o instanceof List<?> l ? (List<Object>) l : List.of();
  }

  private static String microRow(Map<String, Object> m, String name, String operation, String explains) {
    double score = ((Number) m.get("micro_" + name + "_us")).doubleValue();
    double error = ((Number) m.get("micro_" + name + "_error_us")).doubleValue();
    // A cache hit is nanoseconds: more digits there, so that it does not print as zero.
    return row(operation, String.format(Locale.ROOT, score < 1 ? "%.3f ± %.3f" : "%.1f ± %.1f", score, error),
        explains);
  }
}
