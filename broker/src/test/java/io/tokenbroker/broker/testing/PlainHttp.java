package io.tokenbroker.broker.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Predicate;

/** GET requests to the operations listener (plain HTTP). */
public final class PlainHttp {
  public record Reply(int status, String contentType, String body) {}

  private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private PlainHttp() {}

  public static Reply get(String host, int port, String path) throws IOException, InterruptedException {
    return send(HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path)).GET());
  }

  public static Reply send(HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> r = CLIENT.send(request.timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    return new Reply(r.statusCode(), r.headers().firstValue("content-type").orElse(""), r.body());
  }

  /** GETs {@code path} every 100 ms until a reply satisfies {@code wanted} (at most {@code limit}); the last reply. */
  public static Reply await(String host, int port, String path, Predicate<Reply> wanted, Duration limit)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    Reply last = get(host, port, path);
    while (!wanted.test(last) && System.nanoTime() < deadline) {
      Thread.sleep(100);
      last = get(host, port, path);
    }
    return last;
  }
}
