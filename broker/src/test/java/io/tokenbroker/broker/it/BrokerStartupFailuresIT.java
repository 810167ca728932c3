package io.tokenbroker.broker.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.tokenbroker.broker.hsm.Pkcs11ConfigTemplate;
import io.tokenbroker.broker.hsm.SoftHsmDevToken;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every way the HSM can be wrong at start-up ends with a non-zero exit, one line on stderr that names what to
 * fix, no stack trace, and no half-made broker home.
 */
class BrokerStartupFailuresIT {
  private static final String USER_PIN = "5ec7e7-user-pin";

  @TempDir Path tmp;
  private Path home;
  private Path hsmDir;
  private Map<String, String> softhsmEnv;
  private SoftHsmDevToken.Created token;

  @BeforeEach
  void createExternalToken() throws Exception {
    home = tmp.resolve("home");
    hsmDir = tmp.resolve("external-hsm");
    token = SoftHsmDevToken.create(hsmDir, "external", USER_PIN.toCharArray(), "so-pin-1234".toCharArray());
    softhsmEnv = BrokerProcess.env("SOFTHSM2_CONF", token.softhsmConf().toString());
  }

  private Path pinFile(String pin) throws Exception {
    Path f = tmp.resolve("pin-" + pin.hashCode());
    Files.writeString(f, pin + "\n");
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
    return f;
  }

  private Path pkcs11Config(String text) throws Exception {
    Path f = tmp.resolve("pkcs11-" + text.hashCode() + ".cfg");
    Files.writeString(f, text);
    return f;
  }

  private BrokerProcess.Result initWith(Path config, Path pin) throws Exception {
    return BrokerProcess.run(softhsmEnv, "init", "--home", home.toString(), "--pkcs11-config", config.toString(),
        "--pin-file", pin.toString(), "--grpc-port", "0", "--https-port", "0");
  }

  private void assertOneLineFailure(BrokerProcess.Result result, int exitCode, String expected) throws Exception {
    assertThat(result.exitCode()).as(result.stderr()).isEqualTo(exitCode);
    assertThat(result.stderrLines()).as(result.stderr()).hasSize(1);
    assertThat(result.stderrLines().get(0)).startsWith("broker: error: ").contains(expected);
    assertThat(result.stderr()).doesNotContain("Exception").doesNotContainPattern("\\n\\s+at ");
    assertThat(result.stderr()).doesNotContain(USER_PIN);
    assertThat(BrokerProcess.isEmptyOrAbsent(home)).as("no partial broker home").isTrue();
  }

  @Test
  void initWhenPkcs11LibraryMissingThenNamesTheLibraryAndHowToInstall() throws Exception {
    Path config = pkcs11Config("name = t\nlibrary = /nonexistent/libpkcs11-missing.so\nslot = " + token.slot() + "\n");
    assertOneLineFailure(initWith(config, pinFile(USER_PIN)), 3,
        "PKCS#11 library not found: /nonexistent/libpkcs11-missing.so");
  }

  @Test
  void initWhenNoTokenInConfiguredSlotThenSaysTokenNotFoundAndHowToListSlots() throws Exception {
    Path config = pkcs11Config(Pkcs11ConfigTemplate.forSlot("t", token.library(), token.slot() + 1));
    assertOneLineFailure(initWith(config, pinFile(USER_PIN)), 3, "PKCS#11 token not found");
  }

  @Test
  void initWhenPinIsWrongThenSaysWrongPinAndWhereThePinCameFrom() throws Exception {
    Path config = pkcs11Config(Pkcs11ConfigTemplate.forSlot("t", token.library(), token.slot()));
    Path wrong = pinFile("not-the-pin");
    assertOneLineFailure(initWith(config, wrong), 3, "HSM login failed: wrong PIN");
    assertThat(initWith(config, wrong).stderr()).contains("file " + wrong).doesNotContain("not-the-pin\n");
  }

  @Test
  void initWhenHsmRefusesKeyGenerationThenSaysSoWithThePkcs11Code() throws Exception {
    // CKA_LOCAL is set by the token itself; a template that tries to set it is refused by the HSM.
    String refusing = Pkcs11ConfigTemplate.forSlot("t", token.library(), token.slot())
        .replace("CKA_SIGN = true", "CKA_SIGN = true\n  CKA_LOCAL = false");
    Path config = pkcs11Config(refusing);
    assertOneLineFailure(initWith(config, pinFile(USER_PIN)), 3, "the HSM refused to generate a ES256 key pair: CKR_");
  }

  @Test
  void serveWhenDevTokenHomeRunWithoutSoftHsmConfThenGivesTheVariableToSet() throws Exception {
    BrokerProcess.Result init = BrokerProcess.run("init", "--home", home.toString());
    assertThat(init.exitCode()).as(init.stderr()).isZero();

    BrokerProcess.Result serve = BrokerProcess.run(BrokerProcess.env("SOFTHSM2_CONF", token.softhsmConf().toString()),
        "serve", "--home", home.toString());

    assertThat(serve.exitCode()).isEqualTo(2);
    assertThat(serve.stderrLines()).containsExactly("broker: error: this broker home uses a SoftHSM2 development "
        + "token, which needs SOFTHSM2_CONF=" + home.resolve("hsm/softhsm2.conf") + " in the environment "
        + "(bin/broker sets it; now " + token.softhsmConf() + ")");
  }

  @Test
  void initWhenHomeNotEmptyThenRefusesAndLeavesItAlone() throws Exception {
    Files.createDirectories(home);
    Files.writeString(home.resolve("keep.txt"), "operator data");
    BrokerProcess.Result init = BrokerProcess.run("init", "--home", home.toString());
    assertThat(init.exitCode()).isEqualTo(2);
    assertThat(init.stderrLines()).singleElement().asString().contains("is not empty");
    assertThat(Files.readString(home.resolve("keep.txt"))).isEqualTo("operator data");
  }
}
