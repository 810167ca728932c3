package io.tokenbroker.broker.web;

import static io.tokenbroker.broker.testing.GrpcErrorAssert.errorInfo;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jwt.SignedJWT;
import io.grpc.ManagedChannel;
import io.tokenbroker.broker.client.BindingPolicy;
import io.tokenbroker.broker.client.ClientRegistry;
import io.tokenbroker.broker.testing.HeadlessChromium;
import io.tokenbroker.broker.testing.InProcessBroker;
import io.tokenbroker.broker.testing.MutableClock;
import io.tokenbroker.broker.testing.PollingDevice;
import io.tokenbroker.broker.testing.SoftHsm;
import io.tokenbroker.broker.testing.SoftHsmTest;
import io.tokenbroker.proto.v1.AdminServiceGrpc;
import io.tokenbroker.proto.v1.Device;
import io.tokenbroker.proto.v1.ListDevicesRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationRequest;
import io.tokenbroker.proto.v1.StartDeviceAuthorizationResponse;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;

/**
 * The verification page in a real browser: Debian's headless chromium driven by Selenium over the real TLS
 * listener, with a device polling the token endpoint in the background, on a real SoftHSM2 token and H2 file.
 * Screenshots of every page land in {@code target/screenshots}.
 */
@SoftHsmTest
@Tag("browser")
class DevicePageBrowserTests {
  private static final String PASSWORD = "correct horse battery";
  private static final Duration POLL_INTERVAL = Duration.ofSeconds(1);

  private final SoftHsm hsm;
  private final MutableClock clock = new MutableClock(Instant.now());
  @TempDir Path dir;
  private InProcessBroker broker;
  private HeadlessChromium chrome;
  private WebDriver browser;
  private URI origin;

  DevicePageBrowserTests(SoftHsm hsm) {
    this.hsm = hsm;
  }

  @BeforeEach
  void start() throws Exception {
    Files.createDirectories(dir.resolve("home"));
    broker = InProcessBroker.start(hsm, dir.resolve("home"), clock,
        "device.poll-interval=PT1S\nweb.user-code-failures=3\n");
    broker.application().clientRegistry().create(ClientRegistry.draft(InProcessBroker.CLIENT, "Acme Thermostat 3000",
        Set.of("telemetry:write", "firmware:read"), Set.of("https://api.example.test"), BindingPolicy.DPOP), "test");
    broker.application().ownerAccounts().create("alice", PASSWORD.toCharArray(), "test");
    origin = broker.webOrigin();
    chrome = HeadlessChromium.start(dir.resolve("home/tls/server.crt"), dir.resolve("chromium-profile"));
    browser = chrome.driver();
  }

  @AfterEach
  void stop() throws Exception {
    if (chrome != null) {
      chrome.close();
    }
    broker.close();
  }

  private StartDeviceAuthorizationResponse startDevice() {
    return broker.deviceAuthorization().startDeviceAuthorization(
        StartDeviceAuthorizationRequest.newBuilder().setClientId(InProcessBroker.CLIENT).build());
  }

  private void open(String pathAndQuery) {
    browser.get(origin.resolve(pathAndQuery).toString());
  }

  private void typeCode(String typed) {
    browser.findElement(By.id("user_code")).clear();
    browser.findElement(By.id("user_code")).sendKeys(typed);
    browser.findElement(By.cssSelector("form[action='/device'] button[type=submit]")).click();
  }

  private void signIn(String username, String password) {
    browser.findElement(By.id("username")).clear();
    browser.findElement(By.id("username")).sendKeys(username);
    browser.findElement(By.id("password")).sendKeys(password);
    browser.findElement(By.cssSelector("form[action='/device/sign-in'] button[type=submit]")).click();
  }

  private String alert() {
    return browser.findElement(By.id("alert")).getText();
  }

  private List<Device> devicesOfAlice() throws Exception {
    ManagedChannel channel = broker.tlsChannel(InProcessBroker.Caller.OPERATOR);
    try {
      return AdminServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
          .listDevices(ListDevicesRequest.newBuilder().setOwner("alice").build()).getDevicesList();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void approveWhileTheDevicePollsBindsTheDeviceToTheSignedInOwner() throws Exception {
    StartDeviceAuthorizationResponse started = startDevice();
    try (PollingDevice device = new PollingDevice(broker, clock, started.getDeviceCode(), POLL_INTERVAL)) {
      open("/device");
      chrome.awaitHeading("Connect a device");
      chrome.screenshot("01-enter-code");
      // Lower case, a space instead of the dash: accepted as the same code.
      typeCode(started.getUserCode().toLowerCase().replace('-', ' '));
      chrome.awaitHeading("Sign in");
      chrome.screenshot("02-sign-in");
      signIn("alice", PASSWORD);
      chrome.awaitHeading("Approve this device?");

      assertThat(browser.findElement(By.id("confirm-code")).getText()).isEqualTo(started.getUserCode());
      assertThat(browser.findElement(By.id("client-name")).getText()).contains("Acme Thermostat 3000")
          .contains(InProcessBroker.CLIENT);
      assertThat(browser.findElement(By.id("scopes")).getText()).contains("firmware:read", "telemetry:write");
      assertThat(browser.findElement(By.id("audiences")).getText()).contains("https://api.example.test");
      assertThat(browser.findElement(By.id("broker")).getText()).isEqualTo(InProcessBroker.ISSUER);
      assertThat(browser.findElement(By.id("owner")).getText()).isEqualTo("alice");
      assertThat(browser.findElement(By.id("requested")).getText()).contains("UTC");
      chrome.screenshot("03-confirm");
      chrome.viewport(390, 1100);
      chrome.screenshot("03-confirm-phone");
      // Phone width: nothing wider than the screen (no horizontal scrolling).
      Number scrollWidth = (Number) ((JavascriptExecutor) browser).executeScript(
          "return document.documentElement.scrollWidth");
      Number clientWidth = (Number) ((JavascriptExecutor) browser).executeScript(
          "return document.documentElement.clientWidth");
      assertThat(scrollWidth.intValue()).isLessThanOrEqualTo(clientWidth.intValue());
      chrome.viewport(1280, 1000);
      assertThat(device.awaitOutcome(Duration.ZERO)).as("the device is still waiting before approval").isFalse();

      browser.findElement(By.id("approve")).click();
      chrome.awaitHeading("Device approved");
      chrome.screenshot("04-approved");

      assertThat(device.awaitOutcome(Duration.ofSeconds(20))).isTrue();
      assertThat(device.pendingPolls()).isPositive();
      assertThat(device.tokens()).as("the polling device got its tokens").isNotNull();
      String sub = SignedJWT.parse(device.tokens().getAccessToken()).getJWTClaimsSet().getSubject();
      List<Device> devices = devicesOfAlice();
      assertThat(devices).hasSize(1);
      assertThat(devices.get(0).getOwner()).isEqualTo("alice");
      assertThat(devices.get(0).getDeviceId()).isEqualTo(sub);
    }

    // The same code again: already used.
    open("/device");
    typeCode(started.getUserCode());
    chrome.awaitHeading("Code already used");
    chrome.screenshot("11-already-used");
  }

  @Test
  void denyEndsTheDevicesPollingWithAccessDeniedAndCreatesNoDevice() throws Exception {
    StartDeviceAuthorizationResponse started = startDevice();
    try (PollingDevice device = new PollingDevice(broker, clock, started.getDeviceCode(), POLL_INTERVAL)) {
      open("/device");
      typeCode(started.getUserCode().replace("-", ""));
      chrome.awaitHeading("Sign in");
      signIn("alice", PASSWORD);
      chrome.awaitHeading("Approve this device?");

      browser.findElement(By.id("deny")).click();
      chrome.awaitHeading("Request denied");
      chrome.screenshot("05-denied");

      assertThat(device.awaitOutcome(Duration.ofSeconds(20))).isTrue();
      assertThat(device.tokens()).isNull();
      assertThat(errorInfo(device.refusal()).getReason()).isEqualTo("ACCESS_DENIED");
      assertThat(devicesOfAlice()).isEmpty();
    }
  }

  @Test
  void verificationUriCompletePrefillsTheCodeButStillAsksForConfirmation() throws Exception {
    StartDeviceAuthorizationResponse started = startDevice();
    URI complete = URI.create(started.getVerificationUriComplete());
    try (PollingDevice device = new PollingDevice(broker, clock, started.getDeviceCode(), POLL_INTERVAL)) {
      open("/device?" + complete.getRawQuery());
      chrome.awaitHeading("Connect a device");
      chrome.screenshot("06-prefilled");

      assertThat(browser.findElement(By.id("user_code")).getAttribute("value")).isEqualTo(started.getUserCode());
      assertThat(browser.getPageSource()).contains("Check that this code is the one your device shows");
      // Arriving by the link decided nothing: the device keeps getting authorization_pending.
      Thread.sleep(1000);
      assertThat(device.awaitOutcome(Duration.ZERO)).isFalse();

      browser.findElement(By.cssSelector("form[action='/device'] button[type=submit]")).click();
      chrome.awaitHeading("Sign in");
      signIn("alice", PASSWORD);
      chrome.awaitHeading("Approve this device?");
      assertThat(device.awaitOutcome(Duration.ZERO)).isFalse();
      browser.findElement(By.id("approve")).click();
      chrome.awaitHeading("Device approved");

      assertThat(device.awaitOutcome(Duration.ofSeconds(20))).isTrue();
      assertThat(device.tokens()).isNotNull();
    }
  }

  @Test
  void wrongPasswordIsRefusedAndSignsNobodyIn() throws Exception {
    StartDeviceAuthorizationResponse started = startDevice();
    open("/device");
    typeCode(started.getUserCode());
    chrome.awaitHeading("Sign in");

    signIn("alice", "not the password");

    chrome.awaitHeading("Sign in");
    assertThat(alert()).isEqualTo("Wrong username or password.");
    assertThat(browser.findElement(By.id("username")).getAttribute("value")).isEqualTo("alice");
    assertThat(browser.findElement(By.id("password")).getAttribute("value")).isEmpty();
    chrome.screenshot("07-wrong-password");
    // Still nobody signed in: a fresh visit shows no account.
    open("/device");
    assertThat(browser.getPageSource()).doesNotContain("Signed in as");
    assertThat(broker.auditCount("owner_signed_in")).isZero();
  }

  @Test
  void expiredCodeGetsTheExpiredPage() throws Exception {
    StartDeviceAuthorizationResponse started = startDevice();
    open("/device");
    clock.advance(Duration.ofMinutes(11));

    typeCode(started.getUserCode());

    chrome.awaitHeading("Code expired");
    assertThat(alert()).contains("Start again on the device");
    chrome.screenshot("08-expired");
  }

  @Test
  void approvalWithoutCsrfTokenIsRefusedAndTheDeviceKeepsWaiting() throws Exception {
    StartDeviceAuthorizationResponse started = startDevice();
    try (PollingDevice device = new PollingDevice(broker, clock, started.getDeviceCode(), POLL_INTERVAL)) {
      open("/device");
      typeCode(started.getUserCode());
      chrome.awaitHeading("Sign in");
      signIn("alice", PASSWORD);
      chrome.awaitHeading("Approve this device?");
      // A forged form would lack the token: remove it from the page, then press Approve.
      ((JavascriptExecutor) browser).executeScript(
          "document.querySelector('form[action=\"/device/decision\"] input[name=csrf_token]').remove()");

      browser.findElement(By.id("approve")).click();

      chrome.awaitHeading("Request refused");
      assertThat(alert()).contains("Nothing was changed");
      chrome.screenshot("09-csrf-refused");
      int pendingBefore = device.pendingPolls();
      Thread.sleep(1500);
      assertThat(device.awaitOutcome(Duration.ZERO)).as("still pending").isFalse();
      assertThat(device.pendingPolls()).isGreaterThan(pendingBefore);
      assertThat(devicesOfAlice()).isEmpty();
    }
  }

  @Test
  void repeatedWrongCodesLockTheAddressOutEvenForTheRightCode() throws Exception {
    StartDeviceAuthorizationResponse started = startDevice();
    open("/device");
    typeCode("BCDF-GHJK");
    chrome.awaitHeading("Connect a device");
    assertThat(alert()).contains("No device is waiting for this code");
    chrome.screenshot("12-unknown-code");
    typeCode("not a code");
    chrome.awaitHeading("Connect a device");
    assertThat(alert()).contains("That is not a device code");
    typeCode("ZZZZ-ZZZZ");
    chrome.awaitHeading("Connect a device");

    typeCode(started.getUserCode());

    chrome.awaitHeading("Too many attempts");
    assertThat(alert()).contains("Too many wrong codes").contains("try again in 15 minutes");
    chrome.screenshot("10-rate-limited");
    // After the window a right code works again (a new one: the first expired meanwhile).
    clock.advance(Duration.ofMinutes(15));
    StartDeviceAuthorizationResponse again = startDevice();
    open("/device");
    typeCode(again.getUserCode());
    chrome.awaitHeading("Sign in");
  }
}
