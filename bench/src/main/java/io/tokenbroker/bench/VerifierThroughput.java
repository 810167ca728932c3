package io.tokenbroker.bench;

import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.ECDSASigner;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.gen.ECKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.tokenbroker.verifier.ResourceRequest;
import io.tokenbroker.verifier.TokenVerifier;
import io.tokenbroker.verifier.jwks.JwksSource;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.Signature;
import java.security.interfaces.ECPublicKey;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * What a backend service pays per request: {@link TokenVerifier#verify} of a DPoP-bound RFC 9068 access token
 * with its DPoP proof (signature, claims, binding, {@code ath}, replay cache, revocation lookup), on one thread
 * and on two, next to the raw cost of the two ES256 verifications it cannot avoid (the token's and the proof's,
 * Bouncy Castle on key objects), measured in the same JVM.
 *
 * <p>Every request carries a proof never seen before (a replayed one is refused), so the proofs are signed before
 * the cell starts, enough for 1.3 times the raw rate over the cell; a cell that runs out fails rather than reuses one.
 * It runs in a child JVM of its own so that its JIT and heap are not shared with the load generator.
 */
final class VerifierThroughput {
  private static final String ISSUER = "https://broker.bench.test";
  private static final String AUDIENCE = "https://telemetry.bench.test";
  private static final String HTU = AUDIENCE + "/telemetry.v1.Telemetry/Ingest";
  private static final int DEVICES = 64;
  private static final long JIT_WARMUP_MS = 5000;

  private VerifierThroughput() {}

  /** Parent side: runs the child and returns its results. */
  static Map<String, Object> measure(long warmupMs, long windowMs, PrintStream log) throws Exception {
    List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m",
        "-cp", System.getProperty("java.class.path"), VerifierThroughput.class.getName(), Long.toString(warmupMs),
        Long.toString(windowMs));
    return CryptoCeiling.runChild(new ProcessBuilder(cmd), 300, "verifier", log);
  }

  /** A device: its key, its access token, and the public keys a raw check needs. */
  private record Device(DpopKey key, String accessToken, String ath) {}

  /** Child side: args {@code warmupMs windowMs}; prints {@code RESULT name=value} lines. */
  public static void main(String[] args) throws Exception {
    long warmupMs = Long.parseLong(args[0]);
    long windowMs = Long.parseLong(args[1]);
    ECKey issuerKey = new ECKeyGenerator(Curve.P_256).keyID("bench-1").algorithm(JWSAlgorithm.ES256)
        .keyUse(com.nimbusds.jose.jwk.KeyUse.SIGNATURE).provider(DpopKey.BOUNCY_CASTLE).generate();
    ECDSASigner issuerSigner = new ECDSASigner(issuerKey);
    issuerSigner.getJCAContext().setProvider(DpopKey.BOUNCY_CASTLE);
    List<Device> devices = new ArrayList<>();
    long now = System.currentTimeMillis() / 1000;
    for (int i = 0; i < DEVICES; i++) {
      DpopKey key = new DpopKey();
      JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(ISSUER).subject("device-" + i).audience(AUDIENCE)
          .claim("client_id", "bench-device").claim("scope", "telemetry:write")
          .issueTime(new Date(now * 1000)).expirationTime(new Date((now + 600) * 1000))
          .jwtID("jti-" + i).claim("cnf", Map.of("jkt", key.jkt())).claim("sid", "family-" + i).build();
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.ES256)
          .type(new JOSEObjectType("at+jwt")).keyID(issuerKey.getKeyID()).build(), claims);
      jwt.sign(issuerSigner);
      String token = jwt.serialize();
      devices.add(new Device(key, token, TokenVerifier.ath(token)));
    }
    JwksSource source = publishedKey(issuerKey);

    // The raw floor: each device's token signature and one of its proofs' signatures, verified as the verifier
    // must, round robin over the same 64 device keys as the verifier cells (one hot key flattered it by 5-7%).
    ECPublicKey issuerPublic = issuerKey.toECPublicKey(DpopKey.BOUNCY_CASTLE);
    byte[][][] tokenParts = new byte[DEVICES][][];
    byte[][][] proofParts = new byte[DEVICES][][];
    ECPublicKey[] devicePublic = new ECPublicKey[DEVICES];
    for (int i = 0; i < DEVICES; i++) {
      Device d = devices.get(i);
      tokenParts[i] = signedParts(d.accessToken());
      proofParts[i] = signedParts(d.key().proof(HTU, d.ath()));
      devicePublic[i] = d.key().publicKey();
    }
    CryptoCeiling.TaskFactory raw = () -> {
      Signature v = Signature.getInstance("SHA256withPLAIN-ECDSA", DpopKey.BOUNCY_CASTLE);
      int[] next = {0};
      return () -> {
        int i = next[0]++ % DEVICES;
        check(v, issuerPublic, tokenParts[i]);
        check(v, devicePublic[i], proofParts[i]);
      };
    };
    CryptoCeiling.run(1, 0, CryptoCeiling.JIT_WARMUP_MS, raw);
    // The pilot rates size the proof supply.
    double[] rawRates = {0, CryptoCeiling.run(1, 200, 1000, raw)[0], CryptoCeiling.run(2, 200, 1000, raw)[0]};

    // JIT warm-up of the verifier path, then the cells; each with a verifier of its own, so each starts with the
    // default replay cache empty (100,000 proofs).
    // (The verifier's path is longer than the raw one: C2 needs more than the raw cells' 3 s to settle.)
    runVerifier(source, signProofs(devices, (long) (rawRates[1] * JIT_WARMUP_MS / 1000), "jit"), 1, 0,
        JIT_WARMUP_MS, "jit");
    for (int threads : new int[] {1, 2}) {
      long supply = (long) (rawRates[threads] * 1.3 * (warmupMs + windowMs) / 1000.0) + 1000;
      List<ResourceRequest> requests = signProofs(devices, supply, "verifier_t" + threads);
      // The floor is measured right before and right after the cell and averaged: this machine's speed drifts
      // (a floor measured half a minute before the cells once put a cell above 100%).
      double[] before = CryptoCeiling.cell("raw_t" + threads + "_before", threads, warmupMs, windowMs, raw);
      runVerifier(source, requests, threads, warmupMs, windowMs, "verifier_t" + threads);
      double[] after = CryptoCeiling.cell("raw_t" + threads + "_after", threads, warmupMs, windowMs, raw);
      System.out.println("RESULT raw_t" + threads + "_per_s=" + (before[0] + after[0]) / 2);
      System.out.println("RESULT raw_t" + threads + "_cpu_us=" + (before[1] + after[1]) / 2);
    }
    System.out.println("RESULT cpus=" + Runtime.getRuntime().availableProcessors());
  }

  private static void runVerifier(JwksSource source, List<ResourceRequest> requests, int threads, long warmupMs,
      long windowMs, String name) throws Exception {
    try (TokenVerifier verifier = TokenVerifier.builder().issuer(ISSUER).audience(AUDIENCE).jwksSource(source)
        .unsafeWithoutRevocationStream().build()) {
      runVerifier(verifier, requests, threads, warmupMs, windowMs, name);
    }
  }

  private static void runVerifier(TokenVerifier verifier, List<ResourceRequest> requests, int threads,
      long warmupMs, long windowMs, String name) throws Exception {
    AtomicInteger next = new AtomicInteger();
    CryptoCeiling.TaskFactory factory = () -> () -> {
      int i = next.getAndIncrement();
      if (i >= requests.size()) {
        throw new IllegalStateException("the " + requests.size() + " pre-signed proofs ran out; the verifier is "
            + "faster than 1.3 times the raw rate measured before it");
      }
      verifier.verify(requests.get(i));
    };
    if (name.equals("jit")) {
      CryptoCeiling.run(threads, warmupMs, windowMs, factory);
    } else {
      CryptoCeiling.cell(name, threads, warmupMs, windowMs, factory);
    }
  }

  /** {@code supply} requests (at most 2,000,000) for the cell {@code name}, each with a proof never used before. */
  private static List<ResourceRequest> signProofs(List<Device> devices, long supply, String name)
      throws InterruptedException {
    long t0 = System.nanoTime();
    List<ResourceRequest> requests = signProofs(devices, (int) Math.min(supply, 2_000_000));
    System.out.printf("%s: %d fresh proofs signed in %.1f s%n", name, requests.size(),
        (System.nanoTime() - t0) / 1e9);
    return requests;
  }

  /** {@code n} requests, each with a proof never used before, round robin over the devices (two threads sign). */
  private static List<ResourceRequest> signProofs(List<Device> devices, int n) throws InterruptedException {
    ResourceRequest[] out = new ResourceRequest[n];
    Thread[] signers = new Thread[2];
    for (int t = 0; t < signers.length; t++) {
      int first = t;
      signers[t] = new Thread(() -> {
        for (int i = first; i < n; i += signers.length) {
          Device d = devices.get(i % devices.size());
          out[i] = new ResourceRequest("POST", HTU, List.of("DPoP " + d.accessToken()),
              List.of(d.key().proof(HTU, d.ath())), Optional.empty());
        }
      });
      signers[t].start();
    }
    for (Thread t : signers) {
      t.join();
    }
    return List.of(out);
  }

  /** The broker's published keys as a verifier would fetch them: just this issuer key, served from memory. */
  static JwksSource publishedKey(ECKey issuerKey) {
    JWKSet jwks = new JWKSet(issuerKey.toPublicJWK());
    return new JwksSource() {
      @Override
      public JWKSet fetch() {
        return jwks;
      }

      @Override
      public String describe() {
        return "bench keys";
      }
    };
  }

  /** {signing input, raw 64-byte signature} of a compact JWS. */
  static byte[][] signedParts(String jws) {
    int last = jws.lastIndexOf('.');
    return new byte[][] {jws.substring(0, last).getBytes(StandardCharsets.US_ASCII),
        Base64.getUrlDecoder().decode(jws.substring(last + 1))};
  }

  private static void check(Signature v, ECPublicKey key, byte[][] parts) throws Exception {
    v.initVerify(key);
    v.update(parts[0]);
    if (!v.verify(parts[1])) {
      throw new IllegalStateException("raw verification failed");
    }
  }
}
