package io.streamrlhf.cli.config;

import java.nio.file.Path;
import java.util.HashMap;
import io.streamrlhf.schemas.topics.TopicsConfig;
import java.util.Map;
import picocli.CommandLine.Option;

/**
  * The options every service command takes (a picocli mixin). See {@link CommonConfig} for the precedence
  * between flags, environment variables, the config file and defaults.
  */
public final class CommonOptions {

    @Option(names = "--bootstrap", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (env RLHF_BOOTSTRAP_SERVERS; default localhost:9092).")
    String bootstrap;

    @Option(names = "--registry", paramLabel = "URL",
            description = "Schema registry URL, Confluent-compatible API (env RLHF_SCHEMA_REGISTRY_URL; "
                    + "default http://localhost:8081/apis/ccompat/v7).")
    String registry;

    @Option(names = "--topic-prefix", paramLabel = "PREFIX",
            description = "Prefix of every topic name (env RLHF_TOPIC_PREFIX; default rlhf.).")
    String topicPrefix;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Properties file (env RLHF_CONFIG). Precedence: flags > RLHF_* environment > this file > "
                    + "defaults. Undeclared keys (security.protocol, sasl.*, basic.auth.user.info, ...) pass through to the "
                    + "Kafka clients and the serde.")
    Path config;

    /** Resolves the effective configuration against the real environment. */
    public CommonConfig resolve() {
        return resolve(System.getenv());
    }

    CommonConfig resolve(Map<String, String> env) {
        Map<String, String> flags = new HashMap<>();
        flags.put(CommonConfig.BOOTSTRAP_SERVERS, bootstrap);
        flags.put(CommonConfig.SCHEMA_REGISTRY_URL, registry);
        flags.put(TopicsConfig.PREFIX, topicPrefix);
        return CommonConfig.resolve(flags, env, config);
    }
}
