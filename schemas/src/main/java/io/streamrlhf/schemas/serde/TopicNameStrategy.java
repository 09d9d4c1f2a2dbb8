package io.streamrlhf.schemas.serde;

import org.apache.avro.Schema;

/**
 * The default strategy, as Confluent's: subject {@code <topic>-value} or {@code <topic>-key}, so each topic has
 * one evolving value type.
 */
public final class TopicNameStrategy implements SubjectNameStrategy {
    @Override
    public String subjectName(String topic, boolean isKey, Schema schema) {
        return topic + (isKey ? "-key" : "-value");
    }
}
