package io.streamrlhf.schemas.serde;

import org.apache.avro.Schema;

/**
 * Subject = the record's full name (e.g. {@code io.streamrlhf.schemas.avro.Prompt}), so one record type evolves
 * as one subject across every topic that carries it, and a topic may carry several types.
 */
public final class RecordNameStrategy implements SubjectNameStrategy {
    @Override
    public String subjectName(String topic, boolean isKey, Schema schema) {
        return schema.getFullName();
    }
}
