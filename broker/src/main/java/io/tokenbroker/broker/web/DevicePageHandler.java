package io.tokenbroker.broker.web;

import io.tokenbroker.broker.device.DeviceFlow;
import io.tokenbroker.broker.device.UserCode;
import io.tokenbroker.broker.oauth.OAuthException;
import io.tokenbroker.broker.owner.AttemptLimiter;
import io.tokenbroker.broker.owner.OwnerSession;
import io.tokenbroker.broker.owner.OwnerSessions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.eclipse.jetty.http.HttpCookie;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpMethod;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.FormFields;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

/**
 * The verification page, RFC 8628 §3.3: {@code GET /device} (optionally {@code ?user_code=}, the
 * {@code verification_uri_complete} of §3.3.1, which only prefills the form: §5.4 wants an explicit
 * confirmation), {@code POST /device} (the code), {@code POST /device/sign-in}, {@code POST /device/decision}
 * and {@code POST /device/sign-out}.
 *
 * <p>Every POST must come from a form of this site: a url-encoded body of at most {@link #MAX_FORM_BYTES},
 * not marked cross-site by the browser ({@code Sec-Fetch-Site}), with a live session cookie and that
 * session's CSRF token (synchronizer token). Otherwise it is refused and changes nothing. Wrong codes count
 * against the client address and the signed-in owner (RFC 8628 §5.1); the approval is the same
 * {@link DeviceFlow} use case as the operator's, with the signed-in owner as the device's owner.
 */
final class DevicePageHandler {
  static final String PATH = "/device";
  static final String CSRF_FIELD = "csrf_token";
  /** {@code __Host-}: only set by this exact origin over HTTPS, with Path=/ and no Domain (RFC 6265bis §4.1.3.2). */
  static final String COOKIE = "__Host-tokenbroker-session";
  static final int MAX_FORM_BYTES = 4096;
  private static final int MAX_FIELDS = 8;
  /** New sessions one client address may start per window: each is a database row until it expires. */
  static final int SESSION_STARTS_PER_ADDRESS = 100;

  private final DeviceFlow flow;
  private final OwnerSessions sessions;
  private final AttemptLimiter codeFailures;
  private final AttemptLimiter sessionStarts;
  private final DevicePages pages;
  private final Clock clock;

  DevicePageHandler(DeviceFlow flow, OwnerSessions sessions, AttemptLimiter codeFailures, String issuer,
      Clock clock) {
    this.flow = flow;
    this.sessions = sessions;
    this.codeFailures = codeFailures;
    this.sessionStarts = new AttemptLimiter(SESSION_STARTS_PER_ADDRESS, sessions.policy().idle(), 100_000);
    this.pages = new DevicePages(issuer);
    this.clock = clock;
  }

  /** Handles {@code path} (already known to be under /device); false when it is not one of its pages. */
  boolean handle(String path, Request request, Response response, Callback callback) {
    boolean get = HttpMethod.GET.is(request.getMethod());
    boolean post = HttpMethod.POST.is(request.getMethod());
    switch (path) {
      case PATH -> {
        if (get) {
          showCodeForm(request, response, callback);
        } else if (post) {
          withForm(request, response, callback, this::enterCode);
        } else {
          methodNotAllowed(response, callback, "GET, POST");
        }
      }
      case PATH + "/sign-in", PATH + "/decision", PATH + "/sign-out" -> {
        if (!post) {
          methodNotAllowed(response, callback, "POST");
        } else if (path.endsWith("/sign-in")) {
          withForm(request, response, callback, this::signIn);
        } else if (path.endsWith("/decision")) {
          withForm(request, response, callback, this::decide);
        } else {
          withForm(request, response, callback, this::signOut);
        }
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private void showCodeForm(Request request, Response response, Callback callback) {
    String prefilled = null;
    try {
      Fields query = Request.extractQueryParameters(request);
      String given = query.getValue("user_code");
      // A valid code is shown as XXXX-XXXX; anything else (too long, other letters) is not echoed back at all.
      prefilled = given == null ? null : UserCode.normalize(given).map(DevicePageHandler::display).orElse(null);
    } catch (RuntimeException e) {
      prefilled = null;
    }
    Optional<OwnerSession> current = currentSession(request);
    if (current.isEmpty()) {
      String address = "address:" + Request.getRemoteAddr(request);
      Instant now = clock.instant();
      Optional<Instant> blocked = sessionStarts.blockedUntil(address, now);
      if (blocked.isPresent()) {
        lockedOut(response, callback, blocked.get(), now, "new sessions from this address");
        return;
      }
      sessionStarts.recordFailure(address, now);
    }
    OwnerSession session = current.orElseGet(() -> openSession(response));
    send(response, callback, pages.enterCode(200, session.csrfToken(), prefilled, null, session.username()));
  }

  /** One POST, its checks passed: the form's fields and the caller's live session. */
  private record Post(Request request, Response response, Fields form, OwnerSession session, String address) {
    String field(String name) {
      Fields.Field f = form.get(name);
      return f == null ? null : f.getValue();
    }
  }

  @FunctionalInterface
  private interface FormAction {
    void run(Post post, Callback callback);
  }

  private void withForm(Request request, Response response, Callback callback, FormAction action) {
    String site = request.getHeaders().get("Sec-Fetch-Site");
    if (site != null && !site.equals("same-origin") && !site.equals("none")) {
      closeAfterRefusal(response);
      send(response, callback, pages.refused(403, "Request refused",
          "This form was sent from another site. Nothing was changed."));
      return;
    }
    String type = request.getHeaders().get(HttpHeader.CONTENT_TYPE);
    if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
      closeAfterRefusal(response);
      send(response, callback, pages.refused(415, "Request refused", "This page accepts only its own forms."));
      return;
    }
    long length = request.getLength();
    if (length > MAX_FORM_BYTES) {
      closeAfterRefusal(response);
      send(response, callback, pages.refused(413, "Request refused", "The form was too large. Nothing was changed."));
      return;
    }
    Fields form;
    try {
      form = FormFields.getFields(request, MAX_FIELDS, MAX_FORM_BYTES);
    } catch (RuntimeException e) {
      send(response, callback, pages.refused(413, "Request refused", "The form was too large or malformed. "
          + "Nothing was changed."));
      return;
    }
    for (Fields.Field f : form) {
      if (f.getValues().size() > 1) {
        send(response, callback, pages.refused(400, "Request refused", "The form was malformed. Nothing was changed."));
        return;
      }
    }
    Optional<OwnerSession> session = currentSession(request);
    if (session.isEmpty()) {
      send(response, callback, pages.refused(403, "Session ended",
          "Your session has ended or this browser does not accept its cookie. Nothing was changed; start again."));
      return;
    }
    Fields.Field token = form.get(CSRF_FIELD);
    if (!session.get().csrfMatches(token == null ? null : token.getValue())) {
      send(response, callback, pages.refused(403, "Request refused",
          "This form did not come from this page (its security token is missing or wrong). Nothing was changed."));
      return;
    }
    action.run(new Post(request, response, form, session.get(), Request.getRemoteAddr(request)), callback);
  }

  /** POST /device: a code was typed. */
  private void enterCode(Post post, Callback callback) {
    OwnerSession session = post.session();
    String typed = post.field("user_code");
    Instant now = clock.instant();
    Optional<Instant> blocked = blocked(post, now);
    if (blocked.isPresent()) {
      lockedOut(post.response(), callback, blocked.get(), now, "wrong codes");
      return;
    }
    Optional<String> canonical = UserCode.normalize(typed);
    if (canonical.isEmpty()) {
      codeFailed(post, now);
      send(post.response(), callback, pages.enterCode(400, session.csrfToken(), typed == null ? "" : clip(typed),
          "That is not a device code. A code has 8 letters, like BDFG-HJKL.", session.username()));
      return;
    }
    String code = display(canonical.get());
    Optional<DeviceFlow.PendingRequest> pending = lookUp(post, callback, code, now);
    if (pending.isEmpty()) {
      return;
    }
    if (!session.signedIn()) {
      send(post.response(), callback, pages.signIn(200, session.csrfToken(), code, null, null));
      return;
    }
    send(post.response(), callback, pages.confirm(session.csrfToken(), code, pending.get(), session.username(), now));
  }

  /** POST /device/sign-in. */
  private void signIn(Post post, Callback callback) {
    Optional<String> canonical = UserCode.normalize(post.field("user_code"));
    if (canonical.isEmpty()) {
      send(post.response(), callback, pages.refused(400, "Request refused", "The form was malformed. Nothing was "
          + "changed."));
      return;
    }
    String code = display(canonical.get());
    String username = post.field("username");
    String password = post.field("password");
    char[] secret = password == null ? new char[0] : password.toCharArray();
    OwnerSessions.SignIn outcome;
    try {
      outcome = sessions.signIn(post.session(), username, secret, post.address());
    } finally {
      Arrays.fill(secret, '\0');
    }
    Instant now = clock.instant();
    String shownName = username == null ? "" : clip(username.strip());
    if (outcome instanceof OwnerSessions.SignIn.Blocked b) {
      lockedOut(post.response(), callback, b.until(), now, "failed sign-ins");
    } else if (outcome instanceof OwnerSessions.SignIn.Refused) {
      send(post.response(), callback, pages.signIn(400, post.session().csrfToken(), code, shownName,
          "Wrong username or password."));
    } else if (outcome instanceof OwnerSessions.SignIn.SignedIn signedIn) {
      OwnerSession fresh = signedIn.opened().session();
      setCookie(post.response(), signedIn.opened().id());
      Post next = new Post(post.request(), post.response(), post.form(), fresh, post.address());
      lookUp(next, callback, code, now).ifPresent(pending -> send(post.response(), callback,
          pages.confirm(fresh.csrfToken(), code, pending, fresh.username(), now)));
    }
  }

  /** POST /device/decision: approve or deny, as the signed-in owner. */
  private void decide(Post post, Callback callback) {
    OwnerSession session = post.session();
    Optional<String> canonical = UserCode.normalize(post.field("user_code"));
    String decision = post.field("decision");
    if (canonical.isEmpty() || !("approve".equals(decision) || "deny".equals(decision))) {
      send(post.response(), callback, pages.refused(400, "Request refused", "The form was malformed. Nothing was "
          + "changed."));
      return;
    }
    String code = display(canonical.get());
    if (!session.signedIn()) {
      send(post.response(), callback, pages.signIn(200, session.csrfToken(), code, null,
          "Sign in first; nothing was decided yet."));
      return;
    }
    String owner = session.username();
    Instant now = clock.instant();
    try {
      if ("approve".equals(decision)) {
        DeviceFlow.PendingRequest pending = flow.pending(code);
        flow.approve(code, owner, "owner:" + owner);
        send(post.response(), callback, pages.approved(pending.clientName(), owner));
      } else {
        DeviceFlow.PendingRequest pending = flow.pending(code);
        flow.deny(code, "owner:" + owner, "denied by the owner on the verification page");
        send(post.response(), callback, pages.denied(pending.clientName()));
      }
    } catch (OAuthException e) {
      codeRefused(post, callback, e, now);
    }
  }

  /** POST /device/sign-out. */
  private void signOut(Post post, Callback callback) {
    sessions.signOut(post.session());
    OwnerSession anonymous = openSession(post.response());
    send(post.response(), callback, pages.enterCode(200, anonymous.csrfToken(), null, "You are signed out.", null));
  }

  private Optional<DeviceFlow.PendingRequest> lookUp(Post post, Callback callback, String code, Instant now) {
    try {
      return Optional.of(flow.pending(code));
    } catch (OAuthException e) {
      codeFailed(post, now);
      codeRefused(post, callback, e, now);
      return Optional.empty();
    }
  }

  private void codeRefused(Post post, Callback callback, OAuthException e, Instant now) {
    OwnerSession session = post.session();
    switch (e.error()) {
      case EXPIRED_TOKEN -> send(post.response(), callback, pages.expired());
      case STATE_CONFLICT -> send(post.response(), callback, pages.alreadyUsed());
      case NOT_FOUND, INVALID_REQUEST -> send(post.response(), callback, pages.enterCode(400, session.csrfToken(),
          "", "No device is waiting for this code. Check the code on the device's screen.", session.username()));
      default -> throw e;
    }
  }

  private Optional<Instant> blocked(Post post, Instant now) {
    Optional<Instant> byAddress = codeFailures.blockedUntil("address:" + post.address(), now);
    if (byAddress.isPresent() || !post.session().signedIn()) {
      return byAddress;
    }
    return codeFailures.blockedUntil("owner:" + post.session().username(), now);
  }

  private void codeFailed(Post post, Instant now) {
    codeFailures.recordFailure("address:" + post.address(), now);
    if (post.session().signedIn()) {
      codeFailures.recordFailure("owner:" + post.session().username(), now);
    }
  }

  private void lockedOut(Response response, Callback callback, Instant until, Instant now, String what) {
    response.getHeaders().put(HttpHeader.RETRY_AFTER,
        Long.toString(Math.max(1, Duration.between(now, until).getSeconds())));
    send(response, callback, pages.lockedOut(until, now, what));
  }

  private Optional<OwnerSession> currentSession(Request request) {
    List<HttpCookie> cookies = Request.getCookies(request);
    for (HttpCookie c : cookies) {
      if (COOKIE.equals(c.getName())) {
        return sessions.resume(c.getValue());
      }
    }
    return Optional.empty();
  }

  private OwnerSession openSession(Response response) {
    OwnerSessions.Opened opened = sessions.open();
    setCookie(response, opened.id());
    return opened.session();
  }

  /** Session cookie: no Max-Age (ends with the browser); the server ends it earlier by the session policy. */
  private static void setCookie(Response response, String id) {
    Response.replaceCookie(response, HttpCookie.build(COOKIE, id).path("/").secure(true).httpOnly(true)
        .sameSite(HttpCookie.SameSite.STRICT).build());
  }

  private static void methodNotAllowed(Response response, Callback callback, String allow) {
    response.getHeaders().put(HttpHeader.ALLOW, allow);
    send(response, callback, new DevicePages.Page(HttpStatus.METHOD_NOT_ALLOWED_405, "method not allowed\n"),
        "text/plain; charset=utf-8");
  }

  private static void send(Response response, Callback callback, DevicePages.Page page) {
    send(response, callback, page, "text/html; charset=utf-8");
  }

  private static void send(Response response, Callback callback, DevicePages.Page page, String type) {
    response.setStatus(page.status());
    response.getHeaders().put(HttpHeader.CONTENT_TYPE, type);
    response.write(true, ByteBuffer.wrap(page.html().getBytes(StandardCharsets.UTF_8)), callback);
  }

  /** XXXX-XXXX of a canonical code. */
  private static String display(String canonical) {
    return canonical.substring(0, 4) + "-" + canonical.substring(4);
  }

  private static String clip(String typed) {
    return typed.length() > 32 ? typed.substring(0, 32) : typed;
  }

  /**
   * A POST refused before its body is read: the unread body would be taken for the next request on this
   * connection, so the server closes it, and says so, so that clients do not send another request on it.
   */
  private static void closeAfterRefusal(Response response) {
    response.getHeaders().put(HttpHeader.CONNECTION, "close");
  }
}
