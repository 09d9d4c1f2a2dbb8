package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.serde.AvroSerdeException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a source topic's raw bytes into values: a readable record goes on to the processors named {@code next} as
 * {@link Decoded} (value plus original bytes); one that cannot be read (corrupt bytes, an unknown schema id, a
 * missing value) goes to the dead-letter sink with its original key and value bytes and the {@code dlq.*} headers.
 *
 * <p>Why here and not only in a {@code DeserializationExceptionHandler}: a dead letter forwarded from a processor
 * is part of processing its input record, so under exactly-once it commits in the same transaction as that record's
 * offset and nothing else; the handler's dead letters are produced while records are fetched, ahead of the offset
 * they belong to (and {@code TopologyTestDriver} under exactly-once drops them, so they could not be tested). The
 * deserialization handler stays configured for the topics that have no decoder (the global {@code rm.versions}).
 *
 * @param <V> the value type
 */
final class WireDecoder<V> implements Processor<byte[], byte[], Object, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(WireDecoder.class);

    private final Deserializer<String> keyDeserializer;
    private final Deserializer<V> valueDeserializer;
    private final List<String> next;
    private final String deadLetterSink;
    private final DeadLetters deadLetters;
    private ProcessorContext<Object, Object> context;

    WireDecoder(Deserializer<String> keyDeserializer, Deserializer<V> valueDeserializer, List<String> next,
                String deadLetterSink, DeadLetters deadLetters) {
        this.keyDeserializer = Objects.requireNonNull(keyDeserializer, "keyDeserializer");
        this.valueDeserializer = Objects.requireNonNull(valueDeserializer, "valueDeserializer");
        this.next = List.copyOf(next);
        this.deadLetterSink = Objects.requireNonNull(deadLetterSink, "deadLetterSink");
        this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
    }

    @Override
    public void init(ProcessorContext<Object, Object> context) {
        this.context = context;
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        Optional<RecordMetadata> meta = context.recordMetadata();
        String topic = meta.map(RecordMetadata::topic).orElse("?");
        String key;
        V value;
        try {
            key = keyDeserializer.deserialize(topic, record.headers(), record.key());
            if (record.value() == null) {
                throw new IllegalArgumentException("record " + topic + "-" + meta.map(RecordMetadata::partition)
                        .orElse(-1) + "@" + meta.map(RecordMetadata::offset).orElse(-1L)
                        + " has no value (a tombstone), so it carries nothing to process");
            }
            value = valueDeserializer.deserialize(topic, record.headers(), record.value());
        } catch (RuntimeException e) {
            if (AvroSerdeException.isRegistryOutage(e)) {
                // The record may be fine: fail the task (the handler does not dead-letter an outage) so that it is
                // read again from the last commit once the registry answers.
                throw e;
            }
            int partition = meta.map(RecordMetadata::partition).orElse(-1);
            long offset = meta.map(RecordMetadata::offset).orElse(-1L);
            LOG.warn("dead-lettering unreadable record {}-{}@{}: {}", topic, partition, offset, e.toString());
            deadLetters.count(topic, e);
            Headers headers = deadLetters.headers(topic, partition, offset, e, record.headers());
            context.forward(new Record<Object, Object>(record.key(), record.value(), record.timestamp(), headers),
                    deadLetterSink);
            return;
        }
        Record<Object, Object> decoded = new Record<>(key, new Decoded<>(value, record.value()), record.timestamp(),
                record.headers());
        for (String child : next) {
            context.forward(decoded, child);
        }
    }
}
