package io.streamrlhf.rewardstream.topology;

import io.streamrlhf.rewardstream.scoring.model.RewardModelSwapper;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Keeps the newest published version of each reward model in a global store (every instance sees every version)
 * and applies it to the ensemble at once, on the global thread, so scoring threads are not held up by the load.
 * The scorer also checks the store before each batch, which covers versions restored at start-up.
 */
final class RmVersionsProcessor implements Processor<String, RewardModelVersion, Void, Void> {
    private final RewardModelSwapper swapper;
    private KeyValueStore<String, RewardModelVersion> store;

    RmVersionsProcessor(RewardModelSwapper swapper) {
        this.swapper = swapper;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(ScoringTopology.RM_VERSIONS_STORE);
    }

    @Override
    public void process(Record<String, RewardModelVersion> record) {
        RewardModelVersion v = record.value();
        if (v == null) {
            store.delete(record.key());
            return;
        }
        RewardModelVersion current = store.get(v.getName());
        if (current == null || v.getVersion() > current.getVersion()) {
            store.put(v.getName(), v);
        }
        swapper.apply(v);
    }
}
