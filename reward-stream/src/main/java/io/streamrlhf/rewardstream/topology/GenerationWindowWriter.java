package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.schemas.avro.Generation;
import java.time.Instant;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.WindowStore;

/**
 * Keeps recent generations by generation id in a window store whose retention is the feedback join window, so the
 * {@link FeedbackJoiner} can find the responses a label names; older generations expire with the store's segments.
 */
final class GenerationWindowWriter implements Processor<String, Generation, Void, Void> {
    private WindowStore<String, Generation> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(ScoringTopology.GENERATIONS_STORE);
    }

    @Override
    public void process(Record<String, Generation> record) {
        Generation g = record.value();
        if (g == null) {
            return; // a tombstone names no generation
        }
        store.put(g.getGenerationId(), g, record.timestamp());
    }

    /** The newest stored generation with {@code id} whose timestamp is within {@code window} of {@code at}. */
    static Generation lookup(WindowStore<String, Generation> store, String id, long at, long windowMs) {
        Generation found = null;
        try (var it = store.backwardFetch(id, Instant.ofEpochMilli(Math.max(0, at - windowMs)),
                Instant.ofEpochMilli(at + windowMs))) {
            if (it.hasNext()) {
                found = it.next().value;
            }
        }
        return found;
    }
}
