package io.streamrlhf.rewardstream.topology;

import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Fills the global store of every task's published normalisation statistics (key: the task id, value:
 * {@link io.streamrlhf.rewardstream.scoring.NormalizationState#toBytes()}), so each scoring task can merge the other
 * partitions' statistics into its own.
 */
final class NormStatsCollector implements Processor<String, byte[], Void, Void> {
    private KeyValueStore<String, byte[]> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        store = context.getStateStore(ScoringTopology.NORM_STATS_GLOBAL_STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
        if (record.key() == null) {
            return; // not written by a scoring task; nothing to key it by
        }
        if (record.value() == null) {
            store.delete(record.key());
        } else {
            store.put(record.key(), record.value());
        }
    }
}
