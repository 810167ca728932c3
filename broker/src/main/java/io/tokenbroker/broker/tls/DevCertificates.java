package io.tokenbroker.broker.tls;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaMiscPEMGenerator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * Development TLS material for a new broker home: a CA, a server certificate for the listeners, an operator
 * client certificate for the operator API and a backend client certificate for resource servers (introspection
 * and the revocation stream). Production deployments configure their own files instead.
 *
 * <p>Security: the private keys are software keys in PEM files of mode 0600, acceptable for development only;
 * the README says how to use certificates from a real PKI.
 */
public final class DevCertificates {
  private static final Duration CA_LIFETIME = Duration.ofDays(3650);
  private static final Duration LEAF_LIFETIME = Duration.ofDays(825);

  /** The files written. */
  public record Written(Path caCertificate, Path serverCertificate, Path serverKey, Path operatorCertificate,
      Path operatorKey, Path backendCertificate, Path backendKey) {}

  private final Clock clock;
  private final SecureRandom random = new SecureRandom();

  public DevCertificates(Clock clock) {
    this.clock = clock;
  }

  /**
   * Writes {@code ca.crt}, {@code server.crt}/{@code server.key} (valid for {@code hostnames}, localhost and
   * the loopback addresses) and {@code operator.crt}/{@code operator.key} into {@code dir}. The CA key is not
   * kept: a new operator certificate comes from a new CA or, in production, from the operator's own PKI.
   */
  public Written write(Path dir, List<String> hostnames) throws IOException {
    try {
      Files.createDirectories(dir);
      KeyPair ca = newKeyPair();
      X500Name caName = new X500Name("CN=tokenbroker development CA,O=tokenbroker");
      X509Certificate caCert = caCertificate(caName, ca);

      KeyPair server = newKeyPair();
      List<GeneralName> names = new ArrayList<>();
      names.add(new GeneralName(GeneralName.dNSName, "localhost"));
      names.add(new GeneralName(GeneralName.iPAddress, "127.0.0.1"));
      names.add(new GeneralName(GeneralName.iPAddress, "::1"));
      for (String host : hostnames) {
        names.add(isIpLiteral(host) ? new GeneralName(GeneralName.iPAddress, host)
            : new GeneralName(GeneralName.dNSName, host));
      }
      X509Certificate serverCert = leaf(caName, ca.getPrivate(), caCert, new X500Name("CN=tokenbroker broker"),
          server.getPublic(), KeyPurposeId.id_kp_serverAuth, new GeneralNames(names.toArray(GeneralName[]::new)));

      KeyPair operator = newKeyPair();
      X509Certificate operatorCert = leaf(caName, ca.getPrivate(), caCert,
          new X500Name("CN=operator,OU=operators,O=tokenbroker"), operator.getPublic(),
          KeyPurposeId.id_kp_clientAuth, null);

      KeyPair backend = newKeyPair();
      X509Certificate backendCert = leaf(caName, ca.getPrivate(), caCert,
          new X500Name("CN=backend,OU=backends,O=tokenbroker"), backend.getPublic(), KeyPurposeId.id_kp_clientAuth,
          null);

      Written out = new Written(dir.resolve("ca.crt"), dir.resolve("server.crt"), dir.resolve("server.key"),
          dir.resolve("operator.crt"), dir.resolve("operator.key"), dir.resolve("backend.crt"),
          dir.resolve("backend.key"));
      writePem(out.caCertificate(), caCert, false);
      writePem(out.serverCertificate(), serverCert, false);
      writePem(out.serverKey(), new JcaPKCS8Generator(server.getPrivate(), null), true);
      writePem(out.operatorCertificate(), operatorCert, false);
      writePem(out.operatorKey(), new JcaPKCS8Generator(operator.getPrivate(), null), true);
      writePem(out.backendCertificate(), backendCert, false);
      writePem(out.backendKey(), new JcaPKCS8Generator(backend.getPrivate(), null), true);
      return out;
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IOException("cannot create development certificates: " + e.getMessage(), e);
    }
  }

  private static boolean isIpLiteral(String host) {
    if (!host.matches("[0-9.]+|[0-9a-fA-F:]+")) {
      return false;
    }
    try {
      InetAddress.getByName(host);
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  private KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), random);
    return g.generateKeyPair();
  }

  private BigInteger serial() {
    return new BigInteger(127, random).add(BigInteger.ONE);
  }

  private X509Certificate caCertificate(X500Name name, KeyPair ca)
      throws GeneralSecurityException, OperatorCreationException, IOException {
    Instant now = clock.instant();
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(),
        Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(CA_LIFETIME)), name, ca.getPublic())
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(0))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign))
        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(ca.getPublic()));
    return sign(b, ca.getPrivate());
  }

  private X509Certificate leaf(X500Name issuer, PrivateKey caKey, X509Certificate caCert, X500Name subject,
      PublicKey key, KeyPurposeId purpose, GeneralNames sans)
      throws GeneralSecurityException, OperatorCreationException, IOException {
    Instant now = clock.instant();
    JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
    X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial(),
        Date.from(now.minus(Duration.ofMinutes(5))), Date.from(now.plus(LEAF_LIFETIME)), subject, key)
        .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
        .addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature))
        .addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose))
        .addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(caCert))
        .addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key));
    if (sans != null) {
      b.addExtension(Extension.subjectAlternativeName, false, sans);
    }
    return sign(b, caKey);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey key)
      throws GeneralSecurityException, OperatorCreationException {
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static void writePem(Path file, Object object, boolean secret) throws IOException {
    StringWriter text = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(text)) {
      if (object instanceof JcaPKCS8Generator g) {
        w.writeObject(g);
      } else {
        w.writeObject(new JcaMiscPEMGenerator(object));
      }
    }
    Files.deleteIfExists(file);
    if (secret) {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    }
    Files.writeString(file, text.toString(), StandardCharsets.US_ASCII);
  }
}
