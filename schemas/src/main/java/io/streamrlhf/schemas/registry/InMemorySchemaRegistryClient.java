package io.streamrlhf.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * A schema registry held in memory, for unit tests (here and in other modules) and tools that need no server.
 * It behaves like the real one where the serde can tell: ids are registry-wide and reused for an identical
 * schema in another subject, registering an existing schema returns its id, and every subject's compatibility
 * rule (default {@link CompatibilityLevel#BACKWARD}) is enforced with Avro's {@link SchemaCompatibility},
 * rejecting a schema with the same HTTP 409 a server gives and a message listing each incompatibility.
 *
 * <p>{@link #scoped(String)} returns a registry shared by name, which is what the serde uses for URLs of the
 * form {@code mock://<scope>}: serdes configured by Kafka Streams from a map find the same registry as the test.
 */
public final class InMemorySchemaRegistryClient implements SchemaRegistryClient {
    /** URL scheme that selects a scoped in-memory registry in serde configuration. */
    public static final String MOCK_SCHEME = "mock://";

    private static final Map<String, InMemorySchemaRegistryClient> SCOPES = new ConcurrentHashMap<>();

    private final String name;
    private final Map<Integer, Schema> schemasById = new HashMap<>();
    private final Map<Schema, Integer> idsBySchema = new HashMap<>();
    private final Map<String, List<RegisteredSchema>> versionsBySubject = new HashMap<>();
    private final Map<String, CompatibilityLevel> compatibilityBySubject = new HashMap<>();
    private CompatibilityLevel globalCompatibility;
    private int nextId = 1;

    /** A fresh, private registry whose global rule is BACKWARD. */
    public InMemorySchemaRegistryClient() {
        this("in-memory", CompatibilityLevel.BACKWARD);
    }

    /** A fresh, private registry with the given name (for messages) and global compatibility rule. */
    public InMemorySchemaRegistryClient(String name, CompatibilityLevel globalCompatibility) {
        this.name = name;
        this.globalCompatibility = globalCompatibility;
    }

    /** The registry shared under {@code scope} in this JVM, created on first use. */
    public static InMemorySchemaRegistryClient scoped(String scope) {
        return SCOPES.computeIfAbsent(scope,
                s -> new InMemorySchemaRegistryClient(MOCK_SCHEME + s, CompatibilityLevel.BACKWARD));
    }

    /** Forgets the registry shared under {@code scope}, so the next {@link #scoped} starts empty. */
    public static void dropScope(String scope) {
        SCOPES.remove(scope);
    }

    @Override
    public synchronized int register(String subject, Schema schema) {
        List<RegisteredSchema> versions = versionsBySubject.computeIfAbsent(subject, s -> new ArrayList<>());
        for (RegisteredSchema existing : versions) {
            if (existing.schema().equals(schema)) {
                return existing.id();
            }
        }
        List<String> problems = incompatibilities(subject, versions, schema);
        if (!problems.isEmpty()) {
            throw new SchemaRegistryException("Registry " + name + " refused to register schema "
                    + schema.getFullName() + " under subject '" + subject + "': HTTP 409 (error 409): "
                    + "Schema being registered is incompatible with an earlier schema for subject '" + subject
                    + "' (" + compatibility(subject) + "): " + String.join("; ", problems), 409, 409);
        }
        Integer id = idsBySchema.get(schema);
        if (id == null) {
            id = nextId++;
            idsBySchema.put(schema, id);
            schemasById.put(id, schema);
        }
        versions.add(new RegisteredSchema(subject, versions.size() + 1, id, schema));
        return id;
    }

    @Override
    public synchronized int lookupId(String subject, Schema schema) {
        for (RegisteredSchema existing : versionsBySubject.getOrDefault(subject, List.of())) {
            if (existing.schema().equals(schema)) {
                return existing.id();
            }
        }
        boolean subjectKnown = versionsBySubject.containsKey(subject);
        throw new SchemaRegistryException("Registry " + name + " refused to look up schema " + schema.getFullName()
                + " under subject '" + subject + "': HTTP 404 (error " + (subjectKnown ? 40403 : 40401) + "): "
                + (subjectKnown ? "Schema not found" : "Subject '" + subject + "' not found"), 404,
                subjectKnown ? 40403 : 40401);
    }

    @Override
    public synchronized Schema schemaById(int id) {
        Schema schema = schemasById.get(id);
        if (schema == null) {
            throw new SchemaRegistryException("Registry " + name + " refused to fetch schema id " + id
                    + ": HTTP 404 (error 40403): Schema " + id + " not found", 404, 40403);
        }
        return schema;
    }

    @Override
    public synchronized RegisteredSchema latest(String subject) {
        List<RegisteredSchema> versions = versionsBySubject.get(subject);
        if (versions == null || versions.isEmpty()) {
            throw new SchemaRegistryException("Registry " + name + " refused to fetch the latest version of subject '"
                    + subject + "': HTTP 404 (error 40401): Subject '" + subject + "' not found", 404, 40401);
        }
        return versions.get(versions.size() - 1);
    }

    @Override
    public synchronized CompatibilityResult testCompatibility(String subject, Schema schema) {
        List<String> problems = incompatibilities(subject, versionsBySubject.getOrDefault(subject, List.of()), schema);
        return new CompatibilityResult(problems.isEmpty(), problems);
    }

    @Override
    public synchronized void setCompatibility(String subject, CompatibilityLevel level) {
        compatibilityBySubject.put(subject, level);
    }

    /** Sets the rule for subjects that have none of their own. */
    public synchronized void setGlobalCompatibility(CompatibilityLevel level) {
        globalCompatibility = level;
    }

    @Override
    public synchronized CompatibilityLevel compatibility(String subject) {
        return compatibilityBySubject.getOrDefault(subject, globalCompatibility);
    }

    @Override
    public synchronized List<String> subjects() {
        return versionsBySubject.entrySet().stream()
                .filter(e -> !e.getValue().isEmpty())
                .map(Map.Entry::getKey)
                .sorted()
                .toList();
    }

    @Override
    public String describe() {
        return name;
    }

    /** Every reason {@code candidate} breaks the subject's rule against its existing versions; empty if none. */
    private List<String> incompatibilities(String subject, List<RegisteredSchema> versions, Schema candidate) {
        CompatibilityLevel level = compatibility(subject);
        if (level == CompatibilityLevel.NONE || versions.isEmpty()) {
            return List.of();
        }
        List<RegisteredSchema> against = level.transitive() ? versions : versions.subList(versions.size() - 1,
                versions.size());
        List<String> problems = new ArrayList<>();
        for (RegisteredSchema earlier : against) {
            if (level.checksBackward()) {
                // BACKWARD: the new schema (reader) must read data written with the earlier one (writer).
                describe(SchemaCompatibility.checkReaderWriterCompatibility(candidate, earlier.schema()),
                        candidate, "new reader vs version " + earlier.version() + " writer", problems);
            }
            if (level.checksForward()) {
                describe(SchemaCompatibility.checkReaderWriterCompatibility(earlier.schema(), candidate),
                        earlier.schema(), "version " + earlier.version() + " reader vs new writer", problems);
            }
        }
        return problems;
    }

    private static void describe(SchemaPairCompatibility pair, Schema reader, String direction, List<String> into) {
        for (Incompatibility incompatibility : pair.getResult().getIncompatibilities()) {
            into.add(direction + ": " + incompatibility.getType() + " at " + fieldPath(reader,
                    incompatibility.getLocation()) + " (" + incompatibility.getMessage() + ")");
        }
    }

    /**
     * Turns Avro's location ({@code /fields/1/type/items/fields/0/type}) into field names
     * ({@code field 'conversation[].role'}), keeping the raw location for exactness.
     */
    static String fieldPath(Schema schema, String location) {
        if (location == null || location.isEmpty() || "/".equals(location)) {
            return "the record";
        }
        String[] parts = location.substring(1).split("/");
        StringBuilder path = new StringBuilder();
        Schema current = schema;
        try {
            for (int i = 0; i < parts.length && current != null; i++) {
                switch (parts[i]) {
                    case "fields" -> {
                        Schema.Field field = current.getFields().get(Integer.parseInt(parts[++i]));
                        path.append(path.length() == 0 ? "" : ".").append(field.name());
                        current = field.schema();
                    }
                    case "type" -> {
                        // the field's schema, already stepped into
                    }
                    case "items" -> {
                        path.append("[]");
                        current = current.getElementType();
                    }
                    case "values" -> {
                        path.append("{}");
                        current = current.getValueType();
                    }
                    default -> {
                        if (current.getType() == Schema.Type.UNION && parts[i].matches("\\d+")) {
                            current = current.getTypes().get(Integer.parseInt(parts[i]));
                        } else {
                            current = null; // symbols, size, name: nothing deeper to name
                        }
                    }
                }
            }
        } catch (RuntimeException e) {
            return location; // a location we cannot walk is still worth showing as is
        }
        return path.length() == 0 ? location : "field '" + path + "' " + location;
    }
}
