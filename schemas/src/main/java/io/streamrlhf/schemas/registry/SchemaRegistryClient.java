package io.streamrlhf.schemas.registry;

import java.util.List;
import org.apache.avro.Schema;

/**
 * The operations of the Confluent Schema Registry REST API that the serde and the tools need. Implementations
 * are thread-safe and cache what never changes (an id's schema, a registered schema's id).
 *
 * <p>Every method throws {@link SchemaRegistryException} on failure, with a message naming the subject or id.
 */
public interface SchemaRegistryClient extends AutoCloseable {

    /**
     * Registers {@code schema} under {@code subject} (a no-op returning the existing id if it is already
     * registered there) and returns its schema id.
     *
     * @throws SchemaRegistryException with {@link SchemaRegistryException#isIncompatible()} when the subject's
     *                                 compatibility rule rejects the schema
     */
    int register(String subject, Schema schema);

    /** Returns the id of {@code schema} if it is registered under {@code subject}, without registering it. */
    int lookupId(String subject, Schema schema);

    /** Returns the writer schema with the given id. */
    Schema schemaById(int id);

    /** Returns the latest version registered under {@code subject}. */
    RegisteredSchema latest(String subject);

    /**
     * Tests {@code schema} against the subject's compatibility rule. A subject with no versions yet accepts
     * anything.
     */
    CompatibilityResult testCompatibility(String subject, Schema schema);

    /** Sets the compatibility rule of one subject. */
    void setCompatibility(String subject, CompatibilityLevel level);

    /** Returns the compatibility rule in force for a subject (its own, else the registry's global one). */
    CompatibilityLevel compatibility(String subject);

    /** Lists all subjects. */
    List<String> subjects();

    /** Human-readable location of the registry, for error messages ("http://host:8080/apis/ccompat/v7"). */
    String describe();

    /** Releases resources; the default does nothing. */
    @Override
    default void close() {
    }
}
