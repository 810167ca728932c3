package io.tokenbroker.broker.keys;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns a PKCS#11 failure into a short description: the CKR_ code when there is one. */
final class Pkcs11Errors {
  private static final Pattern CKR = Pattern.compile("CKR_[A-Z_]+");

  /**
   * Codes meaning the session, the login or the token went away rather than that the operation itself was
   * refused: a re-login (with fresh key handles) may cure them.
   */
  private static final Set<String> SESSION_LOST = Set.of("CKR_USER_NOT_LOGGED_IN", "CKR_OBJECT_HANDLE_INVALID",
      "CKR_KEY_HANDLE_INVALID", "CKR_SESSION_HANDLE_INVALID", "CKR_SESSION_CLOSED", "CKR_DEVICE_REMOVED",
      "CKR_TOKEN_NOT_PRESENT", "CKR_DEVICE_ERROR");

  private Pkcs11Errors() {}

  static boolean isSessionLost(Throwable e) {
    return SESSION_LOST.contains(describe(e));
  }

  static String describe(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t.getMessage() != null) {
        Matcher m = CKR.matcher(t.getMessage());
        if (m.find()) {
          return m.group();
        }
      }
    }
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
  }
}
