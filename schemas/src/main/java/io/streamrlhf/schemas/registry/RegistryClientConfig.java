package io.streamrlhf.schemas.registry;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;

/**
 * Connection settings of a {@link RestSchemaRegistryClient}. Built with {@link #builder(String...)}; the serde
 * builds one from its Kafka-style configuration map (see {@code AvroSerdeConfig}).
 *
 * @param urls           base URLs tried in order until one answers (e.g. {@code http://localhost:8081} or
 *                       {@code http://localhost:8080/apis/ccompat/v7}); no trailing slash
 * @param userInfo       {@code user:password} for HTTP basic auth, if any
 * @param connectTimeout TCP/TLS connect timeout
 * @param requestTimeout whole-request timeout
 * @param sslContext     TLS context for {@code https} URLs (custom truststore/keystore); the JVM default when empty
 * @param latestTtl      how long {@link SchemaRegistryClient#latest(String)} answers are cached
 */
public record RegistryClientConfig(List<URI> urls, Optional<String> userInfo, Duration connectTimeout,
                                   Duration requestTimeout, Optional<SSLContext> sslContext, Duration latestTtl) {

    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(15);
    public static final Duration DEFAULT_LATEST_TTL = Duration.ofSeconds(30);

    public RegistryClientConfig {
        if (urls == null || urls.isEmpty()) {
            throw new IllegalArgumentException("at least one schema registry URL is required");
        }
        urls = List.copyOf(urls);
        for (URI url : urls) {
            String scheme = url.getScheme();
            if (!"http".equalsIgnoreCase(scheme) && !"https".equalsIgnoreCase(scheme)) {
                throw new IllegalArgumentException("schema registry URL must be http or https: " + url);
            }
        }
        Objects.requireNonNull(userInfo, "userInfo");
        Objects.requireNonNull(sslContext, "sslContext");
        requirePositive(connectTimeout, "connectTimeout");
        requirePositive(requestTimeout, "requestTimeout");
        Objects.requireNonNull(latestTtl, "latestTtl");
        userInfo.ifPresent(u -> {
            if (!u.contains(":")) {
                throw new IllegalArgumentException("basic auth user info must be 'user:password'");
            }
        });
    }

    private static void requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
    }

    /** Starts a builder for the given base URL(s); trailing slashes are removed. */
    public static Builder builder(String... urls) {
        return new Builder(List.of(urls));
    }

    /** Builder for {@link RegistryClientConfig}; every setting but the URLs is optional. */
    public static final class Builder {
        private final List<String> urls;
        private String userInfo;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
        private SSLContext sslContext;
        private Duration latestTtl = DEFAULT_LATEST_TTL;

        private Builder(List<String> urls) {
            this.urls = urls;
        }

        public Builder userInfo(String userInfo) {
            this.userInfo = userInfo == null || userInfo.isEmpty() ? null : userInfo;
            return this;
        }

        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = timeout;
            return this;
        }

        public Builder requestTimeout(Duration timeout) {
            this.requestTimeout = timeout;
            return this;
        }

        public Builder sslContext(SSLContext context) {
            this.sslContext = context;
            return this;
        }

        public Builder latestTtl(Duration ttl) {
            this.latestTtl = ttl;
            return this;
        }

        public RegistryClientConfig build() {
            List<URI> uris = urls.stream()
                    .map(String::trim)
                    .filter(s -> !s.isEmpty())
                    .map(s -> s.endsWith("/") ? s.substring(0, s.length() - 1) : s)
                    .map(URI::create)
                    .toList();
            return new RegistryClientConfig(uris, Optional.ofNullable(userInfo), connectTimeout, requestTimeout,
                    Optional.ofNullable(sslContext), latestTtl);
        }
    }
}
