package io.streamrlhf.cli.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import io.streamrlhf.schemas.topics.TopicsConfig;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;

/**
  * The settings every service command shares: where Kafka and the schema registry are, and how topics are named.
  *
  * <p>Each key is declared once below with its default, validator and doc. A value is taken from the first of these
  * that has it (the one precedence, documented in {@code docs/configuration.md}):
  *
  * <ol>
  *   <li>a command-line flag ({@code --bootstrap}, {@code --registry}, {@code --topic-prefix}, ...);
  *   <li>an environment variable: {@code RLHF_} followed by the key upper-cased with dots as underscores
  *       ({@code bootstrap.servers} → {@code RLHF_BOOTSTRAP_SERVERS});
  *   <li>the properties file given by {@code --config FILE} (or {@code RLHF_CONFIG});
  *   <li>the default.
  * </ol>
  *
  * <p>Keys that are not declared here (for instance {@code security.protocol}, {@code sasl.jaas.config},
  * {@code basic.auth.user.info}) pass through unchanged to the Kafka clients and the serde, so a deployment's
  * security settings live in the same file.
  */
public final class CommonConfig extends AbstractConfig {

    public static final String BOOTSTRAP_SERVERS = "bootstrap.servers";
    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";

    /** Environment variable naming the config file when {@code --config} is not given. */
    public static final String CONFIG_FILE_ENV = "RLHF_CONFIG";

    static final String ENV_PREFIX = "RLHF_";

    /** Our keys plus the catalog's ({@code topic.prefix}, {@code topic.partitions}, ...), each declared once. */
    public static final ConfigDef DEFINITION = new ConfigDef(TopicsConfig.definition())
            .define(BOOTSTRAP_SERVERS, Type.STRING, "localhost:9092", new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Kafka bootstrap servers, HOST:PORT[,HOST:PORT...].")
            .define(SCHEMA_REGISTRY_URL, Type.STRING, "http://localhost:8081/apis/ccompat/v7",
                    new ConfigDef.NonEmptyString(), Importance.HIGH,
                    "Base URL of a Confluent-compatible schema registry API (Confluent Schema Registry, or Apicurio's "
                            + "/apis/ccompat/v7).");

    private CommonConfig(Map<?, ?> values) {
        super(DEFINITION, values, false);
    }

    /**
      * Resolves the configuration from its four sources.
      *
      * @param flags values given on the command line, by key (null values are ignored)
      * @param env the process environment
      * @param configFile the {@code --config} file, or null to fall back to {@code RLHF_CONFIG}, or none
      * @throws ConfigException naming the key, the source and the problem when a value is invalid or the file unreadable
      */
    public static CommonConfig resolve(Map<String, String> flags, Map<String, String> env, Path configFile) {
        Map<String, Object> values = new LinkedHashMap<>();
        Path file = configFile != null ? configFile : (env.get(CONFIG_FILE_ENV) == null ? null : Path.of(env.get(CONFIG_FILE_ENV)));
        if (file != null) {
            readProperties(file).forEach((k, v) -> values.put((String) k, ((String) v).trim()));
        }
        for (String key : DEFINITION.names()) {
            String fromEnv = env.get(envName(key));
            if (fromEnv != null) {
                values.put(key, fromEnv);
            }
        }
        flags.forEach((k, v) -> {
            if (v != null) {
                values.put(k, v);
            }
        });
        try {
            return new CommonConfig(values);
        } catch (ConfigException e) {
            throw new ConfigException(e.getMessage() + sourceHint(file));
        }
    }

    /** The environment variable that overrides {@code key}. */
    public static String envName(String key) {
        return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    private static String sourceHint(Path file) {
        return " (values come from flags, then RLHF_* environment variables, then "
                + (file == null ? "no config file" : "config file " + file) + ", then defaults)";
    }

    private static Properties readProperties(Path file) {
        Properties props = new Properties();
        try (Reader reader = Files.newBufferedReader(file)) {
            props.load(reader);
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file " + file + " does not exist");
        } catch (IOException | IllegalArgumentException e) {
            throw new ConfigException("config file " + file + " could not be read: " + e.getMessage());
        }
        return props;
    }

    public String bootstrapServers() {
        return getString(BOOTSTRAP_SERVERS);
    }

    public String registryUrl() {
        return getString(SCHEMA_REGISTRY_URL);
    }

    public String topicPrefix() {
        return getString(TopicsConfig.PREFIX);
    }

    /**
      * Every setting, resolved: what {@link io.streamrlhf.schemas.topics.Topics#create} and the serde take (topic keys,
      * registry URL and the registry's auth and TLS keys).
      */
    public Map<String, Object> settings() {
        Map<String, Object> all = new LinkedHashMap<>(originals());
        all.putAll(values());
        return all;
    }

    /**
      * Properties for Kafka clients and the serde: every pass-through key from the file, plus
      * {@code bootstrap.servers} and {@code schema.registry.url}.
      */
    public Map<String, Object> clientProperties() {
        Map<String, Object> props = new LinkedHashMap<>(originals());
        TopicsConfig.definition().names().forEach(props::remove);
        props.put(BOOTSTRAP_SERVERS, bootstrapServers());
        props.put(SCHEMA_REGISTRY_URL, registryUrl());
        return props;
    }
}
