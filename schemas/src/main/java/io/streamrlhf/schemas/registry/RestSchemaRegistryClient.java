package io.streamrlhf.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SchemaRegistryClient} over the Confluent Schema Registry REST API (v7 paths), using
 * {@code java.net.http} and Jackson. Works against Confluent Schema Registry and against Apicurio Registry's
 * Confluent-compatible API ({@code http://host:port/apis/ccompat/v7}).
 *
 * <p>Caches, for the life of the client: id → schema (ids are immutable), and (subject, schema) → id. The
 * latest version of a subject is cached for {@link RegistryClientConfig#latestTtl()}. When several base URLs
 * are configured, each request tries them in order until one answers; an HTTP error answer is final.
 *
 * <p>Written by hand: Confluent's client library is not in Maven Central.
 */
public final class RestSchemaRegistryClient implements SchemaRegistryClient {
    private static final Logger log = LoggerFactory.getLogger(RestSchemaRegistryClient.class);
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";
    private static final String ACCEPT =
            "application/vnd.schemaregistry.v1+json, application/vnd.schemaregistry+json; q=0.9, application/json; q=0.5";

    private final RegistryClientConfig config;
    private final HttpClient http;
    private final ObjectMapper json = new ObjectMapper();
    private final String authorization;
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private final Map<String, Map<Schema, Integer>> idsBySubject = new ConcurrentHashMap<>();
    private final Map<String, CachedLatest> latestBySubject = new ConcurrentHashMap<>();

    private record CachedLatest(RegisteredSchema schema, long expiresAtNanos) {
    }

    public RestSchemaRegistryClient(RegistryClientConfig config) {
        this.config = config;
        HttpClient.Builder builder = HttpClient.newBuilder()
                .connectTimeout(config.connectTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL);
        config.sslContext().ifPresent(builder::sslContext);
        this.http = builder.build();
        this.authorization = config.userInfo()
                .map(u -> "Basic " + Base64.getEncoder().encodeToString(u.getBytes(StandardCharsets.UTF_8)))
                .orElse(null);
    }

    /** Convenience for a plain-HTTP registry without authentication. */
    public RestSchemaRegistryClient(String url) {
        this(RegistryClientConfig.builder(url).build());
    }

    @Override
    public int register(String subject, Schema schema) {
        Integer cached = cachedId(subject, schema);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = call("POST", "/subjects/" + encode(subject) + "/versions", schemaBody(schema),
                "register schema " + schema.getFullName() + " under subject '" + subject + "'");
        int id = requiredInt(answer, "id", "register under '" + subject + "'");
        remember(subject, schema, id);
        latestBySubject.remove(subject);
        return id;
    }

    @Override
    public int lookupId(String subject, Schema schema) {
        Integer cached = cachedId(subject, schema);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = call("POST", "/subjects/" + encode(subject), schemaBody(schema),
                "look up schema " + schema.getFullName() + " under subject '" + subject + "'");
        int id = requiredInt(answer, "id", "look up under '" + subject + "'");
        remember(subject, schema, id);
        return id;
    }

    @Override
    public Schema schemaById(int id) {
        Schema cached = schemasById.get(id);
        if (cached != null) {
            return cached;
        }
        JsonNode answer = call("GET", "/schemas/ids/" + id, null, "fetch schema id " + id);
        Schema schema = parse(answer, "schema id " + id);
        schemasById.putIfAbsent(id, schema);
        return schema;
    }

    @Override
    public RegisteredSchema latest(String subject) {
        CachedLatest cached = latestBySubject.get(subject);
        long now = System.nanoTime();
        if (cached != null && now - cached.expiresAtNanos() < 0) {
            return cached.schema();
        }
        JsonNode answer = call("GET", "/subjects/" + encode(subject) + "/versions/latest", null,
                "fetch the latest version of subject '" + subject + "'");
        Schema schema = parse(answer, "latest version of '" + subject + "'");
        int id = requiredInt(answer, "id", "latest of '" + subject + "'");
        int version = requiredInt(answer, "version", "latest of '" + subject + "'");
        RegisteredSchema latest = new RegisteredSchema(subject, version, id, schema);
        schemasById.putIfAbsent(id, schema);
        remember(subject, schema, id);
        latestBySubject.put(subject, new CachedLatest(latest, now + config.latestTtl().toNanos()));
        return latest;
    }

    @Override
    public CompatibilityResult testCompatibility(String subject, Schema schema) {
        try {
            JsonNode answer = call("POST",
                    "/compatibility/subjects/" + encode(subject) + "/versions/latest?verbose=true",
                    schemaBody(schema), "test compatibility of " + schema.getFullName() + " with '" + subject + "'");
            boolean compatible = answer.path("is_compatible").asBoolean(false);
            List<String> messages = new ArrayList<>();
            answer.path("messages").forEach(m -> messages.add(m.asText()));
            return new CompatibilityResult(compatible, messages);
        } catch (SchemaRegistryException e) {
            if (e.isNotFound()) {
                return CompatibilityResult.ok(); // no versions yet: anything may be registered
            }
            throw e;
        }
    }

    @Override
    public void setCompatibility(String subject, CompatibilityLevel level) {
        ObjectNode body = json.createObjectNode().put("compatibility", level.name());
        call("PUT", "/config/" + encode(subject), body,
                "set compatibility of subject '" + subject + "' to " + level);
    }

    @Override
    public CompatibilityLevel compatibility(String subject) {
        JsonNode answer;
        try {
            answer = call("GET", "/config/" + encode(subject) + "?defaultToGlobal=true", null,
                    "read compatibility of subject '" + subject + "'");
        } catch (SchemaRegistryException e) {
            if (!e.isNotFound()) {
                throw e;
            }
            answer = call("GET", "/config", null, "read the global compatibility");
        }
        String level = answer.hasNonNull("compatibilityLevel") ? answer.get("compatibilityLevel").asText()
                : answer.path("compatibility").asText("");
        try {
            return CompatibilityLevel.valueOf(level);
        } catch (IllegalArgumentException e) {
            throw new SchemaRegistryException("Registry " + describe() + " answered an unknown compatibility level '"
                    + level + "' for subject '" + subject + "'", 200, 200, e);
        }
    }

    @Override
    public List<String> subjects() {
        JsonNode answer = call("GET", "/subjects", null, "list subjects");
        List<String> subjects = new ArrayList<>();
        answer.forEach(s -> subjects.add(s.asText()));
        return subjects;
    }

    @Override
    public String describe() {
        return config.urls().size() == 1 ? config.urls().get(0).toString() : config.urls().toString();
    }

    private Integer cachedId(String subject, Schema schema) {
        Map<Schema, Integer> ids = idsBySubject.get(subject);
        return ids == null ? null : ids.get(schema);
    }

    private void remember(String subject, Schema schema, int id) {
        idsBySubject.computeIfAbsent(subject, s -> new ConcurrentHashMap<>()).put(schema, id);
        schemasById.putIfAbsent(id, schema);
    }

    private ObjectNode schemaBody(Schema schema) {
        // schemaType may be omitted for Avro in Confluent's API; Apicurio accepts it either way.
        return json.createObjectNode().put("schemaType", "AVRO").put("schema", schema.toString());
    }

    private Schema parse(JsonNode answer, String what) {
        String text = answer.path("schema").asText(null);
        if (text == null) {
            throw new SchemaRegistryException("Registry " + describe() + " answered without a schema for " + what,
                    200, 200);
        }
        try {
            return new Schema.Parser().parse(text);
        } catch (SchemaParseException e) {
            throw new SchemaRegistryException("Registry " + describe() + " returned an unparseable Avro schema for "
                    + what + ": " + e.getMessage(), 200, 200, e);
        }
    }

    private int requiredInt(JsonNode answer, String field, String what) {
        JsonNode value = answer.get(field);
        if (value == null || !value.canConvertToInt()) {
            throw new SchemaRegistryException("Registry " + describe() + " answered without '" + field + "' to "
                    + what + ": " + answer, 200, 200);
        }
        return value.asInt();
    }

    private static String encode(String pathSegment) {
        return URLEncoder.encode(pathSegment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private JsonNode call(String method, String path, JsonNode body, String what) {
        IOException lastFailure = null;
        URI lastUrl = null;
        for (URI base : config.urls()) {
            URI uri = URI.create(base + path);
            HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                    .timeout(config.requestTimeout())
                    .header("Accept", ACCEPT);
            if (authorization != null) {
                request.header("Authorization", authorization);
            }
            if (body != null) {
                request.header("Content-Type", CONTENT_TYPE)
                        .method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
            } else {
                request.method(method, HttpRequest.BodyPublishers.noBody());
            }
            HttpResponse<String> response;
            try {
                response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            } catch (IOException e) {
                log.debug("Schema registry {} failed to {}: {}", base, what, e.toString());
                lastFailure = e;
                lastUrl = base;
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchemaRegistryException("Interrupted while trying to " + what + " at registry " + base,
                        SchemaRegistryException.UNREACHABLE, SchemaRegistryException.UNREACHABLE, e);
            }
            return answer(response, base, what);
        }
        throw new SchemaRegistryException("Schema registry unreachable at " + (config.urls().size() == 1 ? lastUrl
                : config.urls()) + " while trying to " + what + ": " + describeIo(lastFailure),
                SchemaRegistryException.UNREACHABLE, SchemaRegistryException.UNREACHABLE, lastFailure);
    }

    private static String describeIo(IOException e) {
        String message = e.getMessage();
        if (message == null && e.getCause() != null) {
            message = e.getCause().toString();
        }
        return e.getClass().getSimpleName() + (message == null ? "" : " (" + message + ")");
    }

    private JsonNode answer(HttpResponse<String> response, URI base, String what) {
        int status = response.statusCode();
        String text = response.body() == null ? "" : response.body();
        JsonNode parsed;
        try {
            parsed = text.isBlank() ? json.nullNode() : json.readTree(text);
        } catch (IOException e) {
            parsed = null;
        }
        if (status / 100 == 2) {
            if (parsed == null) {
                throw new SchemaRegistryException("Registry " + base + " answered HTTP " + status
                        + " with a body that is not JSON while trying to " + what + ": " + abbreviate(text), status,
                        status);
            }
            return parsed;
        }
        int errorCode = status;
        String message = abbreviate(text);
        if (parsed != null && parsed.isObject()) {
            errorCode = parsed.path("error_code").asInt(status);
            message = parsed.path("message").asText(message);
        }
        throw new SchemaRegistryException("Registry " + base + " refused to " + what + ": HTTP " + status
                + " (error " + errorCode + "): " + message, status, errorCode);
    }

    private static String abbreviate(String text) {
        return text.length() <= 500 ? text : text.substring(0, 500) + "...";
    }
}
