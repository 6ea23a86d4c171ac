// Writes the Java trust store distroless's java images carry at /etc/ssl/certs/java/cacerts
// (a keystore made from the Debian CA bundle), without running ca-certificates-java's
// maintainer scripts: java TrustStore.java BUNDLE.pem OUT [PASSWORD]
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

public class TrustStore {
  public static void main(String[] args) throws Exception {
    char[] password = (args.length > 2 ? args[2] : "changeit").toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, password);
    int n = 0;
    try (InputStream in = new FileInputStream(args[0])) {
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        // Aliases must be unique and stable: the position in the (sorted) bundle plus the subject's hash.
        X509Certificate x = (X509Certificate) c;
        ks.setCertificateEntry(String.format("debian-%03d-%08x", n++, x.getSubjectX500Principal().hashCode()), x);
      }
    }
    try (OutputStream out = new FileOutputStream(args[1])) {
      ks.store(out, password);
    }
    System.out.println(n);
  }
}
