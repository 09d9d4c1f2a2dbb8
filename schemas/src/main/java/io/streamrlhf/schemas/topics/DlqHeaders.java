package io.streamrlhf.schemas.topics;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The headers of a dead-letter record. A DLQ record keeps the original key and value bytes untouched; these
 * headers (UTF-8 strings) say where it came from and why it failed, so nothing is dropped silently and a
 * fixed consumer can re-read it.
 */
public final class DlqHeaders {
    /** Topic the record was read from. */
    public static final String SOURCE_TOPIC = "dlq.source.topic";
    /** Partition it was read from (decimal). */
    public static final String SOURCE_PARTITION = "dlq.source.partition";
    /** Offset it was read from (decimal). */
    public static final String SOURCE_OFFSET = "dlq.source.offset";
    /** Fully qualified class of the exception. */
    public static final String ERROR_CLASS = "dlq.error.class";
    /** The exception's message (truncated to {@link #MAX_MESSAGE_CHARS}). */
    public static final String ERROR_MESSAGE = "dlq.error.message";
    /** Component that gave up on the record, e.g. {@code reward-stream}. */
    public static final String COMPONENT = "dlq.component";
    /** When it was dead-lettered, ISO-8601 UTC. */
    public static final String FAILED_AT = "dlq.failed.at";

    /** Longest error message kept in a header. */
    public static final int MAX_MESSAGE_CHARS = 2_000;

    private DlqHeaders() {
    }

    /** Builds the headers for a record that failed at {@code topic}/{@code partition}/{@code offset}. */
    public static Headers describe(String topic, int partition, long offset, Throwable error, String component,
                                   Instant failedAt) {
        Headers headers = new RecordHeaders();
        add(headers, SOURCE_TOPIC, topic);
        add(headers, SOURCE_PARTITION, Integer.toString(partition));
        add(headers, SOURCE_OFFSET, Long.toString(offset));
        add(headers, ERROR_CLASS, error.getClass().getName());
        String message = String.valueOf(error.getMessage());
        add(headers, ERROR_MESSAGE, message.length() <= MAX_MESSAGE_CHARS ? message
                : message.substring(0, MAX_MESSAGE_CHARS));
        add(headers, COMPONENT, component);
        add(headers, FAILED_AT, failedAt.toString());
        return headers;
    }

    /**
     * The dead letter of a record read as bytes: its original key and value bytes, to {@code dlqTopic} with the
     * headers of {@link #describe} (partition left to the producer's partitioner, by key).
     */
    public static ProducerRecord<byte[], byte[]> deadLetter(String dlqTopic, ConsumerRecord<byte[], byte[]> record,
                                                            Throwable error, String component) {
        return new ProducerRecord<>(dlqTopic, null, record.key(), record.value(), describe(record.topic(),
                record.partition(), record.offset(), error, component, Instant.now()));
    }

    /** Reads one of these headers as a string, or null when absent. */
    public static String read(Headers headers, String key) {
        var header = headers.lastHeader(key);
        return header == null || header.value() == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static void add(Headers headers, String key, String value) {
        headers.add(key, value.getBytes(StandardCharsets.UTF_8));
    }
}
