package io.streamrlhf.schemas.serde;

import org.apache.avro.Schema;

/**
 * Chooses the registry subject a record's schema is registered and looked up under. Implementations must have a
 * public no-argument constructor so they can be named in configuration.
 */
@FunctionalInterface
public interface SubjectNameStrategy {
    /**
     * @param topic  the topic written to
     * @param isKey  whether the schema is the record key's
     * @param schema the writer schema
     * @return the subject name
     */
    String subjectName(String topic, boolean isKey, Schema schema);
}
