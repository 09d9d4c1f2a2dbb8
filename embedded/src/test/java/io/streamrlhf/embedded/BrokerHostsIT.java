package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.SslAuthenticationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secure broker made for hosts other than {@code localhost}, against real clients doing TLS hostname verification
 * (Kafka's default, {@code ssl.endpoint.identification.algorithm=https}): a client that dials the broker under a name
 * its certificate holds (the IP address {@code 127.0.0.2}, and this machine's host name where it resolves) verifies
 * it and works; one that dials an address the certificate does not hold ({@code 127.0.0.3}, the same broker on the
 * same loopback interface) fails the handshake.
 */
class BrokerHostsIT {

    @Test
    void clientsVerifyTheBrokerUnderANameItsCertificateHoldsAndFailUnderAnother(@TempDir Path dir) throws Exception {
        List<String> hosts = new ArrayList<>(List.of("127.0.0.2"));
        String hostname = machineName();
        if (hostname != null) {
            hosts.add(hostname);
        }
        ClusterSecurity security = ClusterSecurity.createOrLoad(dir.resolve("secure"), List.of("writer"), hosts);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().security(security).start()) {
            int port = broker.port();
            assertThat(broker.bootstrapServers()).as("the first host is advertised").isEqualTo("127.0.0.2:" + port);
            try (Admin admin = Admin.create(client("127.0.0.2:" + port, security.clientProperties("admin")))) {
                List<Node> nodes = new ArrayList<>(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS));
                assertThat(nodes).extracting(Node::host).containsExactly("127.0.0.2");
                admin.createTopics(List.of(new NewTopic("t", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> p = producer("127.0.0.2:" + port, security.clientProperties("admin"))) {
                assertThat(p.send(new ProducerRecord<>("t", "k", "v")).get(30, TimeUnit.SECONDS).offset()).isZero();
            }
            if (hostname != null) {
                // Bootstrapped through the machine's name: that name is verified on the first connection.
                try (KafkaProducer<String, String> p = producer(hostname + ":" + port,
                        security.clientProperties("admin"))) {
                    assertThat(p.send(new ProducerRecord<>("t", "k", "v")).get(30, TimeUnit.SECONDS).offset())
                            .isEqualTo(1);
                }
            }
            Map<String, Object> stranger = client("127.0.0.3:" + port, security.clientProperties("admin"));
            stranger.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 20_000);
            stranger.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
            try (Admin admin = Admin.create(stranger)) {
                assertThatThrownBy(() -> admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).cause()
                        .isInstanceOf(SslAuthenticationException.class)
                        .rootCause().hasMessageContaining("127.0.0.3");
            }
        }
    }

    /** This machine's name where it resolves to one of its own addresses and is a DNS name; else null. */
    private static String machineName() {
        try {
            String name = InetAddress.getLocalHost().getHostName();
            boolean usable = !name.equalsIgnoreCase("localhost")
                    && name.matches("(?i)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")
                    && !name.matches("[0-9.]+");
            return usable ? name.toLowerCase(java.util.Locale.ROOT) : null;
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private static Map<String, Object> client(String bootstrap, Map<String, String> security) {
        Map<String, Object> props = new HashMap<>(security);
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return props;
    }

    private static KafkaProducer<String, String> producer(String bootstrap, Map<String, String> security) {
        Map<String, Object> props = client(bootstrap, security);
        props.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 20_000);
        props.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 20_000);
        props.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        return new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
    }
}
