package io.tokenbroker.broker.logging;

import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.slf4j.MDC;

/**
 * Request ids: the caller's {@code x-request-id} when it is short and made of safe characters (so that it can go
 * into every log line and back into a response header as it is), otherwise a fresh random one. While a request is
 * being worked on, its id is in the SLF4J MDC under {@link #MDC_KEY}, and so in every log line.
 *
 * <p>Thread-safety: stateless; the MDC is per thread.
 */
public final class RequestIds {
  /** The gRPC metadata key and HTTP header that carry the id both ways. */
  public static final String HEADER = "x-request-id";
  /** The MDC key: {@code %X{requestId}} in the text pattern, {@code mdc.requestId} in JSON lines. */
  public static final String MDC_KEY = "requestId";

  private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
  private static final char[] ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz".toCharArray();

  private RequestIds() {}

  /** The caller's id if it is 1-64 characters of {@code A-Z a-z 0-9 . _ : -}, else a new one. */
  public static String acceptOrCreate(String presented) {
    return presented != null && SAFE.matcher(presented).matches() ? presented : create();
  }

  /**
   * A new id: 20 characters of {@code [0-9a-z]} (about 103 random bits). Not a secret, so not from SecureRandom:
   * it only has to be unique enough to find one request's lines.
   */
  public static String create() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    char[] id = new char[20];
    for (int i = 0; i < id.length; i++) {
      id[i] = ALPHABET[random.nextInt(ALPHABET.length)];
    }
    return new String(id);
  }

  /** Puts {@code id} into this thread's MDC until the returned scope is closed, which restores what was there. */
  public static Scope enter(String id) {
    String previous = MDC.get(MDC_KEY);
    MDC.put(MDC_KEY, id);
    return () -> {
      if (previous == null) {
        MDC.remove(MDC_KEY);
      } else {
        MDC.put(MDC_KEY, previous);
      }
    };
  }

  /** An MDC entry that ends with a try-with-resources block. */
  @FunctionalInterface
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }
}
