package io.tokenbroker.broker.owner;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.Semaphore;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashes (RFC 9106) through Bouncy Castle, stored in the PHC string format
 * {@code $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>}, so that the parameters can be raised later without
 * invalidating existing hashes.
 *
 * <p>Parameters: m = 19 MiB, t = 2 passes, p = 1 lane, 16-byte random salt, 32-byte tag: the OWASP Password
 * Storage Cheat Sheet's minimum for Argon2id, an equivalent of RFC 9106 §4's second recommended option scaled to
 * a 2-core broker (one hash costs 19 MiB and about 0.1 s of CPU on the 2-core test machine). Hashing runs at most
 * {@link #CONCURRENT_HASHES} at a time, so a burst of sign-ins cannot exhaust memory. Comparison is
 * constant-time.
 *
 * <p>Thread-safety: thread-safe.
 */
public final class PasswordHasher {
  static final int MEMORY_KIB = 19 * 1024;
  static final int ITERATIONS = 2;
  static final int PARALLELISM = 1;
  static final int SALT_BYTES = 16;
  static final int HASH_BYTES = 32;
  static final int CONCURRENT_HASHES = 2;
  /** Upper bounds on parameters read back from a stored hash, so a tampered row cannot exhaust the broker. */
  private static final int MAX_MEMORY_KIB = 1024 * 1024;
  private static final int MAX_ITERATIONS = 16;
  private static final int MAX_PARALLELISM = 8;
  private static final Pattern PHC = Pattern.compile(
      "\\$argon2id\\$v=19\\$m=(\\d{1,7}),t=(\\d{1,2}),p=(\\d{1,2})\\$([A-Za-z0-9+/]{16,88})\\$([A-Za-z0-9+/]{16,88})");
  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getDecoder();

  private final SecureRandom random = new SecureRandom();
  private final Semaphore permits = new Semaphore(CONCURRENT_HASHES, true);
  /** Verified against when the account does not exist, so that the answer takes as long either way. */
  private final String decoy;

  public PasswordHasher() {
    char[] noise = new char[24];
    Arrays.fill(noise, 'x');
    decoy = hash(noise);
  }

  /** A new PHC-format Argon2id hash of {@code password} with a fresh salt. */
  public String hash(char[] password) {
    byte[] salt = new byte[SALT_BYTES];
    random.nextBytes(salt);
    byte[] tag = derive(password, salt, MEMORY_KIB, ITERATIONS, PARALLELISM, HASH_BYTES);
    return "$argon2id$v=19$m=" + MEMORY_KIB + ",t=" + ITERATIONS + ",p=" + PARALLELISM + "$" + B64.encodeToString(salt)
        + "$" + B64.encodeToString(tag);
  }

  /** Whether {@code password} matches {@code encoded}; false for a malformed or out-of-bounds hash. */
  public boolean verify(char[] password, String encoded) {
    Matcher m = encoded == null ? null : PHC.matcher(encoded);
    if (m == null || !m.matches()) {
      return false;
    }
    int memory = Integer.parseInt(m.group(1));
    int iterations = Integer.parseInt(m.group(2));
    int parallelism = Integer.parseInt(m.group(3));
    if (memory < 8 * parallelism || memory > MAX_MEMORY_KIB || iterations < 1 || iterations > MAX_ITERATIONS
        || parallelism < 1 || parallelism > MAX_PARALLELISM) {
      return false;
    }
    byte[] salt;
    byte[] expected;
    try {
      salt = B64D.decode(m.group(4));
      expected = B64D.decode(m.group(5));
    } catch (IllegalArgumentException e) {
      return false;
    }
    byte[] actual = derive(password, salt, memory, iterations, parallelism, expected.length);
    return MessageDigest.isEqual(expected, actual);
  }

  /** Spends the time of one verification for an unknown account (no user enumeration by timing). */
  public void verifyDecoy(char[] password) {
    verify(password, decoy);
  }

  private byte[] derive(char[] password, byte[] salt, int memoryKib, int iterations, int parallelism, int length) {
    ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(password));
    byte[] secret = new byte[encoded.remaining()];
    encoded.get(secret);
    if (encoded.hasArray()) {
      Arrays.fill(encoded.array(), (byte) 0);
    }
    Argon2Parameters parameters = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
        .withVersion(Argon2Parameters.ARGON2_VERSION_13).withMemoryAsKB(memoryKib).withIterations(iterations)
        .withParallelism(parallelism).withSalt(salt).build();
    byte[] out = new byte[length];
    permits.acquireUninterruptibly();
    try {
      Argon2BytesGenerator generator = new Argon2BytesGenerator();
      generator.init(parameters);
      generator.generateBytes(secret, out);
      return out;
    } finally {
      permits.release();
      Arrays.fill(secret, (byte) 0);
    }
  }
}
