package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.serde.AvroSerdeException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a record whose key or value cannot be read (corrupt bytes, unknown schema id, registry down) to
 * {@code <topic>.dlq} with its original bytes and {@code DlqHeaders}, counts it, and lets the stream go on. The
 * dead letter is written in the same transaction as the task's other output, so it appears exactly once.
 *
 * <p>The topology reads {@code generations} and {@code feedback} as bytes and decodes them in a {@link WireDecoder},
 * which dead-letters unreadable records while their own offsets are processed; this handler is the net for any
 * other source. Records of the global {@code rm.versions} topic have no DLQ; they are logged and skipped (a newer
 * version follows). A registry outage (after the deserializer's own retries) is no bad record: on a topic with a DLQ
 * it fails the task, which reads the record again.
 */
public class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);
    /** Config key: comma-separated topics whose bad records are dead-lettered (others are logged and skipped). */
    public static final String DLQ_TOPICS_CONFIG = "rlhf.dlq.source.topics";

    private DeadLetters deadLetters = new DeadLetters(null);
    private List<String> dlqSources = List.of();

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = DeadLetters.fromConfig(configs);
        Object topics = configs.get(DLQ_TOPICS_CONFIG);
        if (topics != null && !topics.toString().isBlank()) {
            dlqSources = List.of(topics.toString().split("\\s*,\\s*"));
        }
    }

    @Override
    public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
                                Exception exception) {
        if (dlqSources.contains(record.topic()) && AvroSerdeException.isRegistryOutage(exception)) {
            // Not a bad record: the schema registry did not answer. Fail the task; it reads the record again from
            // its last commit (the stream thread is replaced), so nothing is dead-lettered for an outage.
            LOG.warn("schema registry unavailable while reading {}-{}@{}; failing the task to retry: {}",
                    context.topic(), context.partition(), context.offset(), exception.toString());
            return Response.fail();
        }
        if (!dlqSources.contains(record.topic())) {
            deadLetters.count(record.topic(), exception);
            LOG.error("skipping unreadable record {}-{}@{} (no dead-letter topic for it): {}", record.topic(),
                    record.partition(), record.offset(), exception.toString());
            return Response.resume();
        }
        LOG.warn("dead-lettering unreadable record {}-{}@{}: {}", record.topic(), record.partition(),
                record.offset(), exception.toString());
        return Response.resume(List.of(deadLetters.record(record.topic(), record.partition(), record.offset(),
                record.key(), record.value(), exception, record.headers())));
    }
}
