package io.streamrlhf.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.avro.Prompt;
import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.RegistryClientConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;

class AvroSerdeConfigTest {
    private static final String URL = "http://registry:8080/apis/ccompat/v7";

    @Test
    void defaultsMatchConfluents() {
        AvroSerdeConfig config = new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, URL));
        assertThat(config.autoRegisterSchemas()).isTrue();
        assertThat(config.useLatestVersion()).isFalse();
        assertThat(config.specificAvroReader()).isFalse();
        assertThat(config.subjectNameStrategy(false)).isInstanceOf(TopicNameStrategy.class);
        RegistryClientConfig client = config.registryClientConfig();
        assertThat(client.urls()).containsExactly(URI.create(URL));
        assertThat(client.userInfo()).isEmpty();
        assertThat(client.connectTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(client.requestTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(client.sslContext()).isEmpty();
    }

    @Test
    void subjectStrategiesByShortOwnOrConfluentName() {
        var schema = Prompt.getClassSchema();
        assertThat(strategy("RecordNameStrategy").subjectName("t", false, schema))
                .isEqualTo("io.streamrlhf.schemas.avro.Prompt");
        assertThat(strategy("io.confluent.kafka.serializers.subject.TopicRecordNameStrategy").subjectName("t", false,
                schema)).isEqualTo("t-io.streamrlhf.schemas.avro.Prompt");
        assertThat(strategy(TopicNameStrategy.class.getName()).subjectName("t", true, schema)).isEqualTo("t-key");
        assertThatThrownBy(() -> strategy("com.example.Nope"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("value.subject.name.strategy");
        assertThatThrownBy(() -> strategy("java.lang.String"))
                .isInstanceOf(ConfigException.class).hasMessageContaining("does not implement");
    }

    private static SubjectNameStrategy strategy(String name) {
        return new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, URL,
                AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY, name)).subjectNameStrategy(false);
    }

    @Test
    void credentialsInTheUrlAreMovedToBasicAuthAndSeveralUrlsAreKept() {
        RegistryClientConfig client = new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL,
                "https://u:p@a:8081, https://b:8081/", AvroSerdeConfig.REQUEST_TIMEOUT_MS, "2500"))
                .registryClientConfig();
        assertThat(client.urls()).containsExactly(URI.create("https://a:8081"), URI.create("https://b:8081"));
        assertThat(client.userInfo()).isEqualTo(Optional.of("u:p"));
        assertThat(client.requestTimeout()).isEqualTo(Duration.ofMillis(2500));
    }

    @Test
    void misconfigurationIsRefusedWithTheKeyNamed() {
        assertThatThrownBy(() -> new AvroSerdeConfig(Map.of()).registryClient())
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url");
        assertThatThrownBy(() -> new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, URL,
                AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "USER_INFO")).registryClientConfig())
                .isInstanceOf(ConfigException.class).hasMessageContaining("basic.auth.user.info");
        assertThatThrownBy(() -> new AvroSerdeConfig(Map.of(AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, "SASL")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("basic.auth.credentials.source");
        assertThatThrownBy(() -> new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, URL,
                AvroSerdeConfig.SSL_TRUSTSTORE_LOCATION, "/no/such/trust.p12")).registryClientConfig())
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.ssl.truststore.location");
        assertThatThrownBy(() -> new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, "ftp://x"))
                .registryClient()).hasMessageContaining("must be http or https");
    }

    @Test
    void objectValuedKeysTakeAClientOrAnSslContext() throws Exception {
        InMemorySchemaRegistryClient client = new InMemorySchemaRegistryClient();
        assertThat(new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_CLIENT, client)).registryClient())
                .isSameAs(client);
        var context = javax.net.ssl.SSLContext.getDefault();
        assertThat(new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_URL, URL, AvroSerdeConfig.SSL_CONTEXT,
                context)).registryClientConfig().sslContext()).containsSame(context);
        assertThatThrownBy(() -> new AvroSerdeConfig(Map.of(AvroSerdeConfig.SCHEMA_REGISTRY_CLIENT, "nope"))
                .registryClient()).isInstanceOf(ConfigException.class);
        assertThat(AvroSerdeConfig.definition().names()).contains(AvroSerdeConfig.SCHEMA_REGISTRY_URL,
                AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, AvroSerdeConfig.USE_LATEST_VERSION,
                AvroSerdeConfig.BASIC_AUTH_CREDENTIALS_SOURCE, AvroSerdeConfig.BASIC_AUTH_USER_INFO,
                AvroSerdeConfig.SPECIFIC_AVRO_READER, AvroSerdeConfig.KEY_SUBJECT_NAME_STRATEGY,
                AvroSerdeConfig.VALUE_SUBJECT_NAME_STRATEGY);
    }

    @Test
    void withoutAutoRegisterTheSerializerLooksUpOrUsesTheLatestVersion() {
        InMemorySchemaRegistryClient registry = new InMemorySchemaRegistryClient();
        Prompt prompt = io.streamrlhf.schemas.ContractSamples.prompt();
        var lookup = new SpecificAvroSerializer<Prompt>(registry, Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false),
                false);
        assertThatThrownBy(() -> lookup.serialize("t", prompt))
                .hasMessageContaining("Cannot serialize value for topic 't'").hasMessageContaining("404");

        int id = registry.register("t-value", Prompt.getClassSchema());
        assertThat(WireFormat.schemaIdOf(lookup.serialize("t", prompt))).isEqualTo(id);
        var latest = new SpecificAvroSerializer<Prompt>(registry, Map.of(AvroSerdeConfig.AUTO_REGISTER_SCHEMAS, false,
                AvroSerdeConfig.USE_LATEST_VERSION, true), false);
        assertThat(WireFormat.schemaIdOf(latest.serialize("t", prompt))).isEqualTo(id);
    }
}
