package io.tokenbroker.broker.testing;

import java.io.File;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * Debian's chromium, headless, driven through Debian's chromium-driver by Selenium (W3C WebDriver). Nothing is
 * downloaded: both binaries must be installed ({@code scripts/prerequisites.sh} does it).
 *
 * <p>TLS: the browser does not ignore certificate errors in general. It trusts exactly the broker's server key,
 * by the SHA-256 of its SubjectPublicKeyInfo ({@code --ignore-certificate-errors-spki-list}), so a wrong
 * certificate still fails. The dev CA cannot be added to Chromium's NSS store without extra packages.
 */
public final class HeadlessChromium implements AutoCloseable {
  public static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  public static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
  /** Where screenshots go (Surefire runs in the module directory). */
  public static final Path SCREENSHOTS = Path.of("target/screenshots");

  private final ChromeDriver driver;

  private HeadlessChromium(ChromeDriver driver) {
    this.driver = driver;
  }

  /** A fresh browser profile in {@code profile} that trusts the key of {@code serverCertificate}. */
  public static HeadlessChromium start(Path serverCertificate, Path profile) throws Exception {
    if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
      throw new IllegalStateException("the browser tests need Debian's chromium and chromium-driver; run: "
          + "sudo apt-get install -y chromium chromium-driver");
    }
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", "--window-size=1280,1000", "--lang=en-US",
        "--user-data-dir=" + profile.toAbsolutePath(),
        "--ignore-certificate-errors-spki-list=" + spkiSha256(serverCertificate));
    ChromeDriverService service = new ChromeDriverService.Builder()
        .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().withLogOutput(
            java.io.OutputStream.nullOutputStream()).build();
    ChromeDriver driver = new ChromeDriver(service, options);
    driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    return new HeadlessChromium(driver);
  }

  private static String spkiSha256(Path certificate) throws Exception {
    try (InputStream in = Files.newInputStream(certificate)) {
      X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      return Base64.getEncoder().encodeToString(
          MessageDigest.getInstance("SHA-256").digest(cert.getPublicKey().getEncoded()));
    }
  }

  public WebDriver driver() {
    return driver;
  }

  /** Desktop or phone viewport (a phone is 390 CSS pixels wide). */
  public void viewport(int width, int height) {
    driver.manage().window().setSize(new Dimension(width, height));
  }

  /**
   * Waits until the page heading reads {@code title}. A heading found just before the browser navigates goes
   * stale when it is read; that means "not yet", so the wait goes on.
   */
  public void awaitHeading(String title) {
    new WebDriverWait(driver, Duration.ofSeconds(20))
        .ignoring(org.openqa.selenium.StaleElementReferenceException.class).until(d -> {
      var headings = d.findElements(By.tagName("h1"));
      return !headings.isEmpty() && headings.get(0).getText().equals(title);
    });
  }

  /** Saves a PNG of the viewport as {@code target/screenshots/<name>.png}. */
  public Path screenshot(String name) throws Exception {
    Files.createDirectories(SCREENSHOTS);
    File shot = driver.getScreenshotAs(OutputType.FILE);
    Path target = SCREENSHOTS.resolve(name + ".png");
    Files.copy(shot.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return target;
  }

  @Override
  public void close() {
    driver.quit();
  }
}
