package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.avro.Generation;
import java.time.Instant;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Keeps recent generations by generation id in a window store whose retention is the feedback join window, so the
 * {@link FeedbackJoiner} can find the responses a label names; older generations expire with the store's segments.
 * The store holds each generation's bytes as they were on {@code generations} (no second serialization per record);
 * {@link #lookup} decodes the few a label names. Each stored generation goes on to the joiner, which tries the labels
 * that wait for it.
 */
final class GenerationWindowWriter implements Processor<String, Decoded<Generation>, String, Decoded<Generation>> {
    private ProcessorContext<String, Decoded<Generation>> context;
    private WindowStore<String, byte[]> store;

    @Override
    public void init(ProcessorContext<String, Decoded<Generation>> context) {
        this.context = context;
        store = context.getStateStore(ScoringTopology.GENERATIONS_STORE);
    }

    @Override
    public void process(Record<String, Decoded<Generation>> record) {
        store.put(record.value().value().getGenerationId(), record.value().raw(), record.timestamp());
        context.forward(record);
    }

    /** The newest stored generation with {@code id} whose timestamp is within {@code window} of {@code at}. */
    static Generation lookup(WindowStore<String, byte[]> store, Deserializer<Generation> deserializer, String topic,
                             String id, long at, long windowMs) {
        byte[] found = null;
        try (var it = store.backwardFetch(id, Instant.ofEpochMilli(Math.max(0, at - windowMs)),
                Instant.ofEpochMilli(at + windowMs))) {
            if (it.hasNext()) {
                found = it.next().value;
            }
        }
        return found == null ? null : deserializer.deserialize(topic, found);
    }
}
