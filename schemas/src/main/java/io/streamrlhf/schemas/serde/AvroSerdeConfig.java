package io.streamrlhf.schemas.serde;

import io.streamrlhf.schemas.registry.InMemorySchemaRegistryClient;
import io.streamrlhf.schemas.registry.RegistryClientConfig;
import io.streamrlhf.schemas.registry.RestSchemaRegistryClient;
import io.streamrlhf.schemas.registry.SchemaRegistryClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * Configuration of the Avro serde. Keys that Confluent's serde also has keep Confluent's names, so an existing
 * Confluent properties file works unchanged; the timeout and TLS keys follow the same {@code schema.registry.}
 * prefix. Two keys take objects rather than strings, for code that builds the map itself:
 * {@link #SCHEMA_REGISTRY_CLIENT} (share one client, and its caches, between serdes) and
 * {@link #SSL_CONTEXT} (a ready {@link SSLContext}). A URL {@code mock://<scope>} selects the in-memory
 * registry shared under that scope ({@link InMemorySchemaRegistryClient#scoped(String)}).
 */
public final class AvroSerdeConfig extends AbstractConfig {

    public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
    public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
    public static final String USE_LATEST_VERSION = "use.latest.version";
    public static final String BASIC_AUTH_CREDENTIALS_SOURCE = "basic.auth.credentials.source";
    public static final String BASIC_AUTH_USER_INFO = "basic.auth.user.info";
    public static final String SPECIFIC_AVRO_READER = "specific.avro.reader";
    public static final String KEY_SUBJECT_NAME_STRATEGY = "key.subject.name.strategy";
    public static final String VALUE_SUBJECT_NAME_STRATEGY = "value.subject.name.strategy";
    public static final String LATEST_CACHE_TTL_SEC = "latest.cache.ttl.sec";
    public static final String CONNECT_TIMEOUT_MS = "schema.registry.connect.timeout.ms";
    public static final String REQUEST_TIMEOUT_MS = "schema.registry.request.timeout.ms";
    public static final String RETRY_MAX_MS = "schema.registry.retry.max.ms";
    public static final String SSL_TRUSTSTORE_LOCATION = "schema.registry.ssl.truststore.location";
    public static final String SSL_TRUSTSTORE_PASSWORD = "schema.registry.ssl.truststore.password";
    public static final String SSL_TRUSTSTORE_TYPE = "schema.registry.ssl.truststore.type";
    public static final String SSL_KEYSTORE_LOCATION = "schema.registry.ssl.keystore.location";
    public static final String SSL_KEYSTORE_PASSWORD = "schema.registry.ssl.keystore.password";
    public static final String SSL_KEYSTORE_TYPE = "schema.registry.ssl.keystore.type";
    public static final String SSL_KEY_PASSWORD = "schema.registry.ssl.key.password";
    /** Object-valued: an {@link SSLContext} used as is (the truststore/keystore keys are then ignored). */
    public static final String SSL_CONTEXT = "schema.registry.ssl.context";
    /** Object-valued: a {@link SchemaRegistryClient} used as is (the URL and connection keys are then ignored). */
    public static final String SCHEMA_REGISTRY_CLIENT = "schema.registry.client";

    /** Credentials come from the URL's user-info part ({@code http://user:pass@host}). */
    public static final String CREDENTIALS_SOURCE_URL = "URL";
    /** Credentials come from {@link #BASIC_AUTH_USER_INFO}. */
    public static final String CREDENTIALS_SOURCE_USER_INFO = "USER_INFO";

    private static final ConfigDef DEFINITION = new ConfigDef()
            .define(SCHEMA_REGISTRY_URL, Type.LIST, List.of(), Importance.HIGH,
                    "Comma-separated base URL(s) of a Confluent-compatible schema registry, e.g. "
                            + "http://localhost:8081 or http://localhost:8080/apis/ccompat/v7 (Apicurio); "
                            + "mock://<scope> for the in-memory registry of that scope. Required unless "
                            + SCHEMA_REGISTRY_CLIENT + " is given.")
            .define(AUTO_REGISTER_SCHEMAS, Type.BOOLEAN, true, Importance.MEDIUM,
                    "Whether the serializer registers the writer schema under its subject (subject to the "
                            + "registry's compatibility rule). If false it only looks the schema up.")
            .define(USE_LATEST_VERSION, Type.BOOLEAN, false, Importance.LOW,
                    "With " + AUTO_REGISTER_SCHEMAS + "=false: write with the subject's latest schema and id "
                            + "instead of looking up the record's own schema.")
            .define(BASIC_AUTH_CREDENTIALS_SOURCE, Type.STRING, CREDENTIALS_SOURCE_URL,
                    ConfigDef.ValidString.in(CREDENTIALS_SOURCE_URL, CREDENTIALS_SOURCE_USER_INFO), Importance.MEDIUM,
                    "Where HTTP basic-auth credentials come from: URL (user info of the registry URL) or "
                            + "USER_INFO (" + BASIC_AUTH_USER_INFO + ").")
            .define(BASIC_AUTH_USER_INFO, Type.PASSWORD, "", Importance.MEDIUM,
                    "Basic-auth credentials as user:password, used when the source is USER_INFO.")
            .define(SPECIFIC_AVRO_READER, Type.BOOLEAN, false, Importance.MEDIUM,
                    "For deserializers not bound to a class: return generated SpecificRecord classes (found by "
                            + "the writer schema's full name) instead of GenericRecord.")
            .define(KEY_SUBJECT_NAME_STRATEGY, Type.STRING, TopicNameStrategy.class.getName(), Importance.LOW,
                    "Subject naming for keys: TopicNameStrategy, RecordNameStrategy, TopicRecordNameStrategy "
                            + "(short name, this package's class name, or Confluent's class name) or any class "
                            + "implementing " + SubjectNameStrategy.class.getName() + ".")
            .define(VALUE_SUBJECT_NAME_STRATEGY, Type.STRING, TopicNameStrategy.class.getName(), Importance.LOW,
                    "Subject naming for values; same choices as " + KEY_SUBJECT_NAME_STRATEGY + ".")
            .define(LATEST_CACHE_TTL_SEC, Type.LONG, 30L, ConfigDef.Range.atLeast(1), Importance.LOW,
                    "How long the latest version of a subject is cached, in seconds.")
            .define(CONNECT_TIMEOUT_MS, Type.LONG, 5_000L, ConfigDef.Range.atLeast(1), Importance.LOW,
                    "Timeout for connecting to the registry, in milliseconds.")
            .define(REQUEST_TIMEOUT_MS, Type.LONG, 15_000L, ConfigDef.Range.atLeast(1), Importance.LOW,
                    "Timeout for one registry request, in milliseconds.")
            .define(RETRY_MAX_MS, Type.LONG, 60_000L, ConfigDef.Range.atLeast(0), Importance.MEDIUM,
                    "How long a deserializer keeps retrying, with exponential back-off, a writer-schema fetch "
                            + "that failed because the registry was unreachable, overloaded (429) or failing (5xx) "
                            + "before it gives up with an error that callers retry rather than dead-letter.")
            .define(SSL_TRUSTSTORE_LOCATION, Type.STRING, "", Importance.LOW,
                    "Truststore file for https registry URLs; the JVM's default trust when empty.")
            .define(SSL_TRUSTSTORE_PASSWORD, Type.PASSWORD, "", Importance.LOW, "Truststore password.")
            .define(SSL_TRUSTSTORE_TYPE, Type.STRING, "PKCS12", Importance.LOW, "Truststore type (PKCS12 or JKS).")
            .define(SSL_KEYSTORE_LOCATION, Type.STRING, "", Importance.LOW,
                    "Keystore file with a client certificate, for registries that require mutual TLS.")
            .define(SSL_KEYSTORE_PASSWORD, Type.PASSWORD, "", Importance.LOW, "Keystore password.")
            .define(SSL_KEYSTORE_TYPE, Type.STRING, "PKCS12", Importance.LOW, "Keystore type (PKCS12 or JKS).")
            .define(SSL_KEY_PASSWORD, Type.PASSWORD, "", Importance.LOW,
                    "Password of the private key in the keystore; the keystore password when empty.");

    /** Parses and validates {@code props}; unknown keys (e.g. the rest of a producer's config) are ignored. */
    public AvroSerdeConfig(Map<String, ?> props) {
        super(DEFINITION, props, false);
    }

    /** The definition of every key, with defaults and docs (for generated documentation). */
    public static ConfigDef definition() {
        return new ConfigDef(DEFINITION);
    }

    public boolean autoRegisterSchemas() {
        return getBoolean(AUTO_REGISTER_SCHEMAS);
    }

    public boolean useLatestVersion() {
        return getBoolean(USE_LATEST_VERSION);
    }

    /** How long a registry outage is retried while reading a record, in milliseconds. */
    public long retryMaxMs() {
        return getLong(RETRY_MAX_MS);
    }

    public boolean specificAvroReader() {
        return getBoolean(SPECIFIC_AVRO_READER);
    }

    /** The subject naming strategy for keys ({@code isKey}) or values. */
    public SubjectNameStrategy subjectNameStrategy(boolean isKey) {
        String key = isKey ? KEY_SUBJECT_NAME_STRATEGY : VALUE_SUBJECT_NAME_STRATEGY;
        String name = getString(key).trim();
        String simple = name.substring(name.lastIndexOf('.') + 1);
        boolean builtIn = !name.contains(".") || name.startsWith("io.confluent.")
                || name.startsWith(SubjectNameStrategy.class.getPackageName() + ".");
        if (builtIn) {
            switch (simple) {
                case "TopicNameStrategy":
                    return new TopicNameStrategy();
                case "RecordNameStrategy":
                    return new RecordNameStrategy();
                case "TopicRecordNameStrategy":
                    return new TopicRecordNameStrategy();
                default:
                    break;
            }
        }
        try {
            Class<?> type = Class.forName(name, true, Thread.currentThread().getContextClassLoader() != null
                    ? Thread.currentThread().getContextClassLoader() : AvroSerdeConfig.class.getClassLoader());
            if (!SubjectNameStrategy.class.isAssignableFrom(type)) {
                throw new ConfigException(key, name, "class does not implement " + SubjectNameStrategy.class.getName());
            }
            return (SubjectNameStrategy) type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
            throw new ConfigException(key, name, "unknown subject name strategy (" + e + ")");
        }
    }

    /**
     * The registry client these settings describe: the object under {@link #SCHEMA_REGISTRY_CLIENT} if given,
     * the scoped in-memory registry for {@code mock://<scope>}, else a new {@link RestSchemaRegistryClient}.
     *
     * @throws ConfigException when no URL is given or the TLS material cannot be loaded
     */
    public SchemaRegistryClient registryClient() {
        Object given = originals().get(SCHEMA_REGISTRY_CLIENT);
        if (given != null) {
            if (!(given instanceof SchemaRegistryClient client)) {
                throw new ConfigException(SCHEMA_REGISTRY_CLIENT, given.getClass().getName(),
                        "must be an instance of " + SchemaRegistryClient.class.getName());
            }
            return client;
        }
        List<String> urls = getList(SCHEMA_REGISTRY_URL);
        if (urls.isEmpty()) {
            throw new ConfigException("Missing required configuration \"" + SCHEMA_REGISTRY_URL
                    + "\" (the schema registry's base URL, e.g. http://localhost:8080/apis/ccompat/v7)");
        }
        if (urls.get(0).startsWith(InMemorySchemaRegistryClient.MOCK_SCHEME)) {
            return InMemorySchemaRegistryClient.scoped(urls.get(0).substring(InMemorySchemaRegistryClient.MOCK_SCHEME.length()));
        }
        return new RestSchemaRegistryClient(registryClientConfig());
    }

    /** The REST client settings: URLs (credentials stripped), basic auth, timeouts, TLS. */
    public RegistryClientConfig registryClientConfig() {
        List<String> urls = getList(SCHEMA_REGISTRY_URL);
        String userInfo = null;
        String[] plain = new String[urls.size()];
        for (int i = 0; i < urls.size(); i++) {
            URI uri = URI.create(urls.get(i).trim());
            if (uri.getUserInfo() != null) {
                if (userInfo == null) {
                    userInfo = uri.getUserInfo();
                }
                plain[i] = uri.getScheme() + "://" + uri.getRawAuthority().substring(uri.getRawAuthority().indexOf('@') + 1)
                        + (uri.getRawPath() == null ? "" : uri.getRawPath());
            } else {
                plain[i] = uri.toString();
            }
        }
        if (CREDENTIALS_SOURCE_USER_INFO.equals(getString(BASIC_AUTH_CREDENTIALS_SOURCE))) {
            userInfo = getPassword(BASIC_AUTH_USER_INFO).value();
            if (userInfo.isEmpty()) {
                throw new ConfigException(BASIC_AUTH_USER_INFO, "",
                        "must be user:password when " + BASIC_AUTH_CREDENTIALS_SOURCE + "=USER_INFO");
            }
        }
        return RegistryClientConfig.builder(plain)
                .userInfo(userInfo)
                .connectTimeout(Duration.ofMillis(getLong(CONNECT_TIMEOUT_MS)))
                .requestTimeout(Duration.ofMillis(getLong(REQUEST_TIMEOUT_MS)))
                .latestTtl(Duration.ofSeconds(getLong(LATEST_CACHE_TTL_SEC)))
                .sslContext(sslContext())
                .build();
    }

    private SSLContext sslContext() {
        Object given = originals().get(SSL_CONTEXT);
        if (given != null) {
            if (!(given instanceof SSLContext context)) {
                throw new ConfigException(SSL_CONTEXT, given.getClass().getName(), "must be a javax.net.ssl.SSLContext");
            }
            return context;
        }
        String trustLocation = getString(SSL_TRUSTSTORE_LOCATION);
        String keyLocation = getString(SSL_KEYSTORE_LOCATION);
        if (trustLocation.isEmpty() && keyLocation.isEmpty()) {
            return null;
        }
        try {
            TrustManagerFactory trust = null;
            if (!trustLocation.isEmpty()) {
                KeyStore store = load(SSL_TRUSTSTORE_LOCATION, trustLocation, getString(SSL_TRUSTSTORE_TYPE),
                        getPassword(SSL_TRUSTSTORE_PASSWORD));
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(store);
            }
            KeyManagerFactory keys = null;
            if (!keyLocation.isEmpty()) {
                Password storePassword = getPassword(SSL_KEYSTORE_PASSWORD);
                KeyStore store = load(SSL_KEYSTORE_LOCATION, keyLocation, getString(SSL_KEYSTORE_TYPE), storePassword);
                String keyPassword = getPassword(SSL_KEY_PASSWORD).value();
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, (keyPassword.isEmpty() ? storePassword.value() : keyPassword).toCharArray());
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(),
                    null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new ConfigException("Cannot build the TLS context for the schema registry: " + e);
        }
    }

    private static KeyStore load(String key, String location, String type, Password password) {
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            KeyStore store = KeyStore.getInstance(type);
            store.load(in, password.value().isEmpty() ? null : password.value().toCharArray());
            return store;
        } catch (IOException | GeneralSecurityException e) {
            throw new ConfigException(key, location, "cannot load " + type + " store: " + e);
        }
    }
}
