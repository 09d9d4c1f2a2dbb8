package io.streamrlhf.schemas.registry;

import java.util.Objects;
import org.apache.avro.Schema;

/**
 * One version of a subject as the registry knows it.
 *
 * @param subject the subject, e.g. {@code rlhf.prompts-value}
 * @param version the subject's version number (1, 2, ...)
 * @param id      the registry-wide schema id written into every record's wire header
 * @param schema  the parsed Avro schema
 */
public record RegisteredSchema(String subject, int version, int id, Schema schema) {
    public RegisteredSchema {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(schema, "schema");
    }
}
