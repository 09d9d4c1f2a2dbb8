package io.streamrlhf.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
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
import org.apache.kafka.common.acl.AccessControlEntry;
import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.acl.AclPermissionType;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.resource.PatternType;
import org.apache.kafka.common.resource.ResourcePattern;
import org.apache.kafka.common.resource.ResourceType;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A secure embedded broker against real clients: TLS with the CA made at first start, SCRAM users written at format
 * time, the StandardAuthorizer denying what no ACL allows, and the material read back on a restart.
 */
class SecureBrokerIT {

    @Test
    void usersAuthenticateOverTlsAndOnlyAclsOpenTopics(@TempDir Path dir) throws Exception {
        ClusterSecurity security = ClusterSecurity.createOrLoad(dir.resolve("secure"), List.of("writer"));
        assertThat(security.createdNow()).isTrue();
        assertThat(security.users()).containsExactly("admin", "broker", "writer");
        // A set whose iteration order is not fixed: compare members, not its string.
        assertThat(Files.getPosixFilePermissions(dir.resolve("secure/users.properties")))
                .containsExactlyInAnyOrder(java.nio.file.attribute.PosixFilePermission.OWNER_READ,
                        java.nio.file.attribute.PosixFilePermission.OWNER_WRITE);
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(dir.resolve("kafka"))
                .security(security).start()) {
            String bootstrap = broker.bootstrapServers();
            try (Admin admin = Admin.create(client(bootstrap, security.clientProperties("admin")))) {
                admin.createTopics(List.of(new NewTopic("open", 1, (short) 1), new NewTopic("closed", 1, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS);
                admin.createAcls(List.of(new AclBinding(new ResourcePattern(ResourceType.TOPIC, "open",
                        PatternType.LITERAL), new AccessControlEntry("User:writer", "*", AclOperation.WRITE,
                        AclPermissionType.ALLOW)))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, String> writer = producer(bootstrap, security.clientProperties("writer"))) {
                assertThat(writer.send(new ProducerRecord<>("open", "k", "v")).get(30, TimeUnit.SECONDS).offset())
                        .isZero();
                assertThatThrownBy(() -> writer.send(new ProducerRecord<>("closed", "k", "v")).get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(TopicAuthorizationException.class);
            }
            try (Admin writerAdmin = Admin.create(client(bootstrap, security.clientProperties("writer")))) {
                assertThatThrownBy(() -> writerAdmin.createTopics(List.of(new NewTopic("mine", 1, (short) 1)))
                        .all().get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(TopicAuthorizationException.class);
            }
            Map<String, String> wrongPassword = new HashMap<>(security.clientProperties("writer"));
            wrongPassword.put("sasl.jaas.config", wrongPassword.get("sasl.jaas.config")
                    .replaceAll("password=\"[0-9a-f]+\"", "password=\"guess\""));
            try (KafkaProducer<String, String> impostor = producer(bootstrap, wrongPassword)) {
                assertThatThrownBy(() -> impostor.send(new ProducerRecord<>("open", "k", "v")).get(30, TimeUnit.SECONDS))
                        .isInstanceOf(ExecutionException.class).cause().isInstanceOf(SaslAuthenticationException.class);
            }
        }
        // A restart reads the same CA, certificate and passwords back; the ACL persists in the metadata log.
        ClusterSecurity again = ClusterSecurity.createOrLoad(dir.resolve("secure"), List.of("writer"));
        assertThat(again.createdNow()).isFalse();
        try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(dir.resolve("kafka"))
                .security(again).start();
             KafkaProducer<String, String> writer = producer(broker.bootstrapServers(),
                     again.clientProperties("writer"))) {
            assertThat(writer.send(new ProducerRecord<>("open", "k", "v")).get(30, TimeUnit.SECONDS).offset())
                    .isEqualTo(1);
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
