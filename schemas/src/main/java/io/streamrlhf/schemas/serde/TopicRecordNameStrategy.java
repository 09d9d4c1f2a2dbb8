package io.streamrlhf.schemas.serde;

import org.apache.avro.Schema;

/** Subject = {@code <topic>-<record full name>}: several record types per topic, each evolving per topic. */
public final class TopicRecordNameStrategy implements SubjectNameStrategy {
    @Override
    public String subjectName(String topic, boolean isKey, Schema schema) {
        return topic + "-" + schema.getFullName();
    }
}
