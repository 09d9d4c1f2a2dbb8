package io.streamrlhf.cli.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.streamrlhf.schemas.topics.TopicsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CommonConfigTest {

    @TempDir Path dir;

    @Test
    void defaultsPointAtTheLocalCluster() {
        CommonConfig config = CommonConfig.resolve(Map.of(), Map.of(), null);
        assertThat(config.bootstrapServers()).isEqualTo("localhost:9092");
        assertThat(config.registryUrl()).isEqualTo("http://localhost:8081/apis/ccompat/v7");
        assertThat(config.topicPrefix()).isEqualTo("rlhf.");
    }

    @Test
    void flagBeatsEnvironmentBeatsFileBeatsDefault() throws IOException {
        Path file = write("bootstrap.servers=file:1\nschema.registry.url=http://file/\ntopic.prefix=file.\n"
                + "topic.partitions=7\n");
        Map<String, String> env = Map.of("RLHF_BOOTSTRAP_SERVERS", "env:1", "RLHF_TOPIC_PREFIX", "env.");
        Map<String, String> flags = new HashMap<>();
        flags.put(CommonConfig.BOOTSTRAP_SERVERS, "flag:1");
        flags.put(TopicsConfig.PREFIX, null); // a flag not given

        CommonConfig config = CommonConfig.resolve(flags, env, file);

        assertThat(config.bootstrapServers()).isEqualTo("flag:1");              // flag
        assertThat(config.topicPrefix()).isEqualTo("env.");                      // environment
        assertThat(config.registryUrl()).isEqualTo("http://file/");              // file
        assertThat(config.settings()).containsEntry(TopicsConfig.PARTITIONS, 7);  // file, typed
        assertThat(config.settings()).containsEntry(TopicsConfig.REPLICATION_FACTOR, (short) -1); // default
    }

    @Test
    void configFileComesFromTheEnvironmentWhenNoFlagNamesIt() throws IOException {
        Path file = write("bootstrap.servers=from-env-file:9092\n");
        CommonConfig config = CommonConfig.resolve(Map.of(), Map.of("RLHF_CONFIG", file.toString()), null);
        assertThat(config.bootstrapServers()).isEqualTo("from-env-file:9092");
    }

    @Test
    void undeclaredKeysPassThroughToClientsButTopicKeysDoNot() throws IOException {
        Path file = write("security.protocol=SASL_SSL\nbasic.auth.user.info=u:p\ntopic.partitions=2\n");
        Map<String, Object> client = CommonConfig.resolve(Map.of(), Map.of(), file).clientProperties();
        assertThat(client)
                .containsEntry("security.protocol", "SASL_SSL")
                .containsEntry("basic.auth.user.info", "u:p")
                .containsEntry("bootstrap.servers", "localhost:9092")
                .doesNotContainKey(TopicsConfig.PARTITIONS);
    }

    @Test
    void invalidValueNamesTheKeyAndTheSources() throws IOException {
        Path file = write("topic.partitions=zero\n");
        assertThatThrownBy(() -> CommonConfig.resolve(Map.of(), Map.of(), file))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("topic.partitions")
                .hasMessageContaining("zero")
                .hasMessageContaining(file.toString());
    }

    @Test
    void missingConfigFileIsAClearError() {
        Path missing = dir.resolve("nope.properties");
        assertThatThrownBy(() -> CommonConfig.resolve(Map.of(), Map.of(), missing))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("nope.properties")
                .hasMessageContaining("does not exist");
    }

    @Test
    void environmentNamesFollowOneRule() {
        assertThat(CommonConfig.envName("bootstrap.servers")).isEqualTo("RLHF_BOOTSTRAP_SERVERS");
        assertThat(CommonConfig.envName("topic.stream.retention.ms")).isEqualTo("RLHF_TOPIC_STREAM_RETENTION_MS");
    }

    @Test
    void everyDeclaredKeyHasADoc() {
        CommonConfig.DEFINITION.configKeys().values()
                .forEach(key -> assertThat(key.documentation).as(key.name).isNotBlank());
        assertThat(CommonConfig.DEFINITION.names()).contains(TopicsConfig.PREFIX, CommonConfig.BOOTSTRAP_SERVERS);
    }

    private Path write(String content) throws IOException {
        Path file = dir.resolve("rlhf.properties");
        Files.writeString(file, content);
        return file;
    }
}
