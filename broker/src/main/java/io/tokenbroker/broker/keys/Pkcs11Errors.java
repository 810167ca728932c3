package io.tokenbroker.broker.keys;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Turns a PKCS#11 failure into a short description: the CKR_ code when there is one. */
final class Pkcs11Errors {
  private static final Pattern CKR = Pattern.compile("CKR_[A-Z_]+");

  private Pkcs11Errors() {}

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
