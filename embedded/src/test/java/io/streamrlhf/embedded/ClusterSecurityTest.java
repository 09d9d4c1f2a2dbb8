package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The security material made at first start, read back later, and the broker settings that use it. */
class ClusterSecurityTest {

    @TempDir Path dir;

    @Test
    void madeOnceThenReadBackWithTheSamePasswords() {
        ClusterSecurity made = ClusterSecurity.createOrLoad(dir, List.of("worker", "scorer"));
        ClusterSecurity read = ClusterSecurity.createOrLoad(dir, List.of("worker", "scorer"));
        assertThat(made.createdNow()).isTrue();
        assertThat(read.createdNow()).isFalse();
        assertThat(read.users()).containsExactly("admin", "broker", "scorer", "worker");
        assertThat(read.clientProperties("worker")).isEqualTo(made.clientProperties("worker"));
        assertThat(made.clientProperties("worker").get("sasl.jaas.config"))
                .isNotEqualTo(made.clientProperties("scorer").get("sasl.jaas.config"));
        assertThat(made.scramArguments()).hasSize(4)
                .allMatch(a -> a.matches("SCRAM-SHA-512=\\[name=[a-z-]+,password=[0-9a-f]{36}]"));
    }

    @Test
    void theBrokerCertificateIsSignedByTheTrustedCaForLocalhost() throws Exception {
        ClusterSecurity security = ClusterSecurity.createOrLoad(dir, List.of());
        String password = security.clientProperties("admin").get("ssl.truststore.password");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(security.truststore())) {
            trust.load(in, password.toCharArray());
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(dir.resolve("broker.p12"))) {
            keys.load(in, password.toCharArray());
        }
        X509Certificate ca = (X509Certificate) trust.getCertificate("ca");
        X509Certificate broker = (X509Certificate) keys.getCertificate("broker");
        broker.verify(ca.getPublicKey());
        assertThat(broker.getSubjectX500Principal().getName()).isEqualTo("CN=broker");
        assertThat(broker.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
                .containsExactly("localhost", "127.0.0.1");
        assertThat(ca.getBasicConstraints()).isGreaterThanOrEqualTo(0);
        assertThat(broker.getBasicConstraints()).isEqualTo(-1);
    }

    @Test
    void aSecureNodeListensOnSaslSslAndMutualTlsAndAuthorizes(@TempDir Path logDir) {
        ClusterSecurity security = ClusterSecurity.createOrLoad(dir, List.of("worker"));
        Map<String, String> props = EmbeddedKafkaBroker.nodeProperties(1, logDir, 19092, 19093, "1@localhost:19093",
                Map.of(), security);
        assertThat(props).containsEntry("listeners", "SASL_SSL://localhost:19092,CONTROLLER://localhost:19093")
                .containsEntry("listener.security.protocol.map", "SASL_SSL:SASL_SSL,CONTROLLER:SSL")
                .containsEntry("inter.broker.listener.name", "SASL_SSL")
                .containsEntry("listener.name.controller.ssl.client.auth", "required")
                .containsEntry("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer")
                .containsEntry("super.users", "User:admin;User:broker")
                .containsEntry("allow.everyone.if.no.acl.found", "false");
    }

    @Test
    void theCertificateNamesTheHostsGivenAndTheBrokerAdvertisesTheFirst(@TempDir Path logDir) throws Exception {
        ClusterSecurity security = ClusterSecurity.createOrLoad(dir, List.of("worker"),
                List.of("Broker-1.Example.org", "10.0.0.7", "broker-1.example.org"));
        assertThat(security.hosts()).containsExactly("broker-1.example.org", "10.0.0.7");
        assertThat(security.advertisedHost()).isEqualTo("broker-1.example.org");
        assertThat(security.certificateNames())
                .containsExactly("broker-1.example.org", "10.0.0.7", "localhost", "127.0.0.1");
        // DNS names as dNSName (2), addresses as iPAddress (7): TLS clients match each kind only against its own.
        assertThat(brokerCertificate(security).getSubjectAlternativeNames())
                .containsExactly(List.of(2, "broker-1.example.org"), List.of(7, "10.0.0.7"), List.of(2, "localhost"),
                        List.of(7, "127.0.0.1"));
        Map<String, String> props = EmbeddedKafkaBroker.nodeProperties(1, logDir, 19092, 19093, "1@localhost:19093",
                Map.of(), security);
        assertThat(props).containsEntry("listeners", "SASL_SSL://:19092,CONTROLLER://localhost:19093")
                .containsEntry("advertised.listeners", "SASL_SSL://broker-1.example.org:19092");
        assertThat(ClusterSecurity.createOrLoad(dir.resolve("local"), List.of("worker")).advertisedHost())
                .isEqualTo("localhost");
        assertThat(EmbeddedKafkaBroker.hostPort("::1", 9092)).isEqualTo("[::1]:9092");
    }

    @Test
    void otherHostsOnARestartAreRefusedUntilTheCertificateIsRenewedWithTheSamePasswords() throws Exception {
        ClusterSecurity first = ClusterSecurity.createOrLoad(dir, List.of("worker"), List.of("a.example.org"));
        assertThat(ClusterSecurity.createOrLoad(dir, List.of("worker"), List.of("a.example.org")).createdNow())
                .isFalse();
        assertThatThrownBy(() -> ClusterSecurity.createOrLoad(dir, List.of("worker"), List.of("b.example.org")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("was made for hosts [a.example.org, localhost, 127.0.0.1]")
                .hasMessageContaining("asks for [b.example.org, localhost, 127.0.0.1]")
                .hasMessageContaining("--renew-certificate").hasMessageContaining(dir.toString());
        assertThatThrownBy(() -> ClusterSecurity.createOrLoad(dir, List.of("worker")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("asks for [localhost, 127.0.0.1]");

        ClusterSecurity renewed = ClusterSecurity.renewCertificate(dir, List.of("worker"), List.of("b.example.org"));
        assertThat(renewed.renewedNow()).isTrue();
        assertThat(renewed.certificateNames()).containsExactly("b.example.org", "localhost", "127.0.0.1");
        assertThat(renewed.clientProperties("worker").get("sasl.jaas.config"))
                .isEqualTo(first.clientProperties("worker").get("sasl.jaas.config"));
        assertThat(renewed.scramArguments()).isEqualTo(first.scramArguments());
        X509Certificate cert = brokerCertificate(renewed);
        cert.verify(trustedCa(renewed).getPublicKey());
        assertThat(ClusterSecurity.createOrLoad(dir, List.of("worker"), List.of("b.example.org")).hosts())
                .containsExactly("b.example.org");
    }

    @Test
    void hostsThatAreNeitherNamesNorAddressesAreRefusedByName() {
        for (String bad : List.of("*.example.org", "bad name", "999.1.1.1", "1.2.3", "-lead.example.org", "", "a..b")) {
            assertThatThrownBy(() -> ClusterSecurity.checkHosts(List.of(bad)))
                    .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'" + bad + "'");
        }
        assertThat(ClusterSecurity.checkHosts(List.of("::1", "127.0.0.2", "node-2")))
                .containsExactly("0:0:0:0:0:0:0:1", "127.0.0.2", "node-2");
    }

    private static X509Certificate brokerCertificate(ClusterSecurity security) throws Exception {
        KeyStore keys = KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(security.dir().resolve("broker.p12"))) {
            keys.load(in, security.clientProperties("admin").get("ssl.truststore.password").toCharArray());
        }
        return (X509Certificate) keys.getCertificate("broker");
    }

    private static X509Certificate trustedCa(ClusterSecurity security) throws Exception {
        KeyStore trust = KeyStore.getInstance("PKCS12");
        try (var in = java.nio.file.Files.newInputStream(security.truststore())) {
            trust.load(in, security.clientProperties("admin").get("ssl.truststore.password").toCharArray());
        }
        return (X509Certificate) trust.getCertificate("ca");
    }

    @Test
    void badUserNamesAndIncompleteMaterialAreRefusedByName() {
        assertThatThrownBy(() -> ClusterSecurity.createOrLoad(dir, List.of("Worker One")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'Worker One'");
        ClusterSecurity.createOrLoad(dir, List.of("worker"));
        assertThatThrownBy(() -> ClusterSecurity.createOrLoad(dir, List.of("worker", "learner")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("[learner]")
                .hasMessageContaining(dir.toString());
        assertThatThrownBy(() -> ClusterSecurity.createOrLoad(dir, List.of()).clientProperties("scorer"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no SCRAM user 'scorer'");
    }
}
