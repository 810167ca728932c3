package io.tokenbroker.broker.testing;

import io.tokenbroker.broker.hsm.HsmPin;
import io.tokenbroker.broker.hsm.Pkcs11ConfigTemplate;
import io.tokenbroker.broker.hsm.Pkcs11Token;
import io.tokenbroker.broker.hsm.SoftHsmDevToken;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Creates a fresh SoftHSM2 token for a test class before any PKCS#11 provider of the JVM loads.
 *
 * <p>SoftHSM reads {@code SOFTHSM2_CONF} when the library initialises, once per process. Surefire points that
 * variable at a per-fork path and runs each {@code hsm}-tagged class in a JVM of its own; this extension
 * writes the file there, with an empty token directory, then initialises a token and logs in.
 */
public final class SoftHsmTokenExtension implements BeforeAllCallback, ParameterResolver {
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(SoftHsmTokenExtension.class);
  private static SoftHsm shared;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    context.getStore(NS).getOrComputeIfAbsent("hsm", k -> create(), SoftHsm.class);
  }

  private static synchronized SoftHsm create() {
    if (shared != null) {
      // One token per JVM: a second class in the same JVM would not see a new token anyway.
      return shared;
    }
    String conf = System.getenv("SOFTHSM2_CONF");
    if (conf == null || conf.isBlank()) {
      throw new IllegalStateException("SOFTHSM2_CONF is not set: run HSM tests through Maven ('./test.sh'), "
          + "which gives every HSM test class its own JVM and configuration file");
    }
    try {
      Path dir = Path.of(conf).toAbsolutePath().getParent();
      deleteRecursively(dir);
      Files.createDirectories(dir);
      SecureRandom random = new SecureRandom();
      char[] pin = HexFormat.of().formatHex(random.generateSeed(8)).toCharArray();
      char[] soPin = HexFormat.of().formatHex(random.generateSeed(8)).toCharArray();
      String label = "test-" + HexFormat.of().formatHex(random.generateSeed(4));
      SoftHsmDevToken.Created created = SoftHsmDevToken.create(dir, label, pin, soPin);
      if (!created.softhsmConf().equals(Path.of(conf).toAbsolutePath())) {
        throw new IllegalStateException("SOFTHSM2_CONF must end in softhsm2.conf, is " + conf);
      }
      Path pkcs11Config = dir.resolve("pkcs11.cfg");
      Files.writeString(pkcs11Config, Pkcs11ConfigTemplate.forSlot("tokenbroker-test", created.library(),
          created.slot()));
      Pkcs11Token token = Pkcs11Token.open(pkcs11Config, HsmPin.ofChars(pin, "test"));
      shared = new SoftHsm(token, pkcs11Config, created.library(), label, pin);
      return shared;
    } catch (IOException e) {
      throw new IllegalStateException("cannot prepare the SoftHSM2 test token", e);
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameterContext, ExtensionContext extensionContext) {
    return parameterContext.getParameter().getType() == SoftHsm.class;
  }

  @Override
  public Object resolveParameter(ParameterContext parameterContext, ExtensionContext extensionContext)
      throws ParameterResolutionException {
    return extensionContext.getRoot().getStore(NS).getOrComputeIfAbsent("hsm", k -> create(), SoftHsm.class);
  }
}
