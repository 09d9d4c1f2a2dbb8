package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RunningStats;
import io.streamrlhf.rewardstream.scoring.rules.LengthRule;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;

class SharedNormalizationTest {

    private static KeyValueStore<String, byte[]> store(String name) {
        KeyValueStore<String, byte[]> store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name),
                Serdes.String(), Serdes.ByteArray()).withLoggingDisabled().build();
        MockProcessorContext<Object, Object> context = new MockProcessorContext<>();
        store.init(context.getStateStoreContext(), store);
        return store;
    }

    private static NormalizationState state(long version, RunningStats stats) {
        return new NormalizationState(Map.of("rule-length", stats), version);
    }

    @Test
    void aBatchStartsFromTheOwnStatisticsMergedWithTheOtherTasksReadable() {
        KeyValueStore<String, byte[]> own = store("own");
        KeyValueStore<String, byte[]> shared = store("shared");
        RunningStats mine = RunningStats.EMPTY.add(1).add(3);
        RunningStats theirs = RunningStats.EMPTY.add(10);
        RunningStats third = RunningStats.EMPTY.add(20).add(30);
        own.put(SharedNormalization.OWN_STATS_KEY, state(2, mine).toBytes());
        shared.put("0_0", state(99, RunningStats.EMPTY.add(1000)).toBytes());  // ours as published: not counted
        shared.put("0_1", state(4, theirs).toBytes());
        shared.put("0_2", state(5, third).toBytes());
        shared.put("0_3", new byte[] {42});  // unreadable: skipped

        NormalizationState start = new SharedNormalization("0_0", own, shared).nextBatch().begin();

        assertThat(start.version()).isEqualTo(2);
        assertThat(start.get("rule-length")).isEqualTo(mine);
        assertThat(start.combinedVersion()).isEqualTo(2 + 4 + 5);
        assertThat(start.combined("rule-length")).isEqualTo(mine.merge(theirs.merge(third)));
    }

    @Test
    void eachBatchStartsWhereThePreviousLeftWhileTheStoreMovesOnlyWhenABatchIsAdopted() {
        KeyValueStore<String, byte[]> own = store("own");
        SharedNormalization normalization = new SharedNormalization("0_0", own, store("shared"));
        SharedNormalization.BatchStatistics first = normalization.nextBatch();
        SharedNormalization.BatchStatistics second = normalization.nextBatch();

        assertThat(first.begin().version()).isZero();
        NormalizationState firstState = state(1, RunningStats.EMPTY.add(4));  // what scoring the batch left
        first.end(firstState);
        NormalizationState secondState = second.begin();
        assertThat(secondState.version()).isEqualTo(1);
        assertThat(secondState.get("rule-length")).isEqualTo(RunningStats.EMPTY.add(4));
        assertThat(own.get(SharedNormalization.OWN_STATS_KEY)).isNull();

        byte[] published = normalization.adopt(firstState).orElseThrow();
        assertThat(NormalizationState.fromBytes(published).get("rule-length")).isEqualTo(RunningStats.EMPTY.add(4));
        assertThat(own.get(SharedNormalization.OWN_STATS_KEY)).isEqualTo(published);
        assertThat(normalization.adopt(firstState)).as("nothing new").isEmpty();
    }

    @Test
    void batchScoringNormalisesAndPassesTheStatisticsOn() {
        RewardEnsemble ensemble = RewardEnsemble.builder().add(new LengthRule("rule-length", 1.0))
                .normalization(NormalizationSettings.DEFAULT).build();
        SharedNormalization normalization = new SharedNormalization("0_0", store("own"), store("shared"));
        BatchScoring first = new BatchScoring("0_0", List.of(Fixtures.generation("g1", "p", "ab"),
                Fixtures.generation("g2", "p", "abcd")), ensemble, normalization.nextBatch(), null);
        BatchScoring second = new BatchScoring("0_0", List.of(Fixtures.generation("g3", "p", "abcdef")), ensemble,
                normalization.nextBatch(), null);

        BatchScoring.Scored a = first.call();
        BatchScoring.Scored b = second.call();

        assertThat(a.outcomes()).hasSize(2).allSatisfy(o -> assertThat(o.scored()).isTrue());
        assertThat(a.reference()).isNull();
        assertThat(a.state().get("rule-length").count()).isEqualTo(2);
        assertThat(b.state().get("rule-length").count()).isEqualTo(3);
        assertThat(b.state().version()).isEqualTo(a.state().version() + 1);
        assertThat(b.outcomes().get(0).score().scores().get(0).raw()).isEqualTo(6.0);
    }

    @Test
    void headersCarryTheCombinedVersionAndEachSourcesCount() {
        NormalizationState state = new NormalizationState(Map.of("a", RunningStats.EMPTY.add(1)), 3,
                Map.of("a", RunningStats.EMPTY.add(2).add(3), "b", RunningStats.EMPTY.add(5)), 4);

        Headers headers = SharedNormalization.headers(state);

        assertThat(value(headers, "rlhf.norm.version")).isEqualTo("7");
        assertThat(value(headers, "rlhf.norm.count.a")).isEqualTo("3");
        assertThat(value(headers, "rlhf.norm.count.b")).isEqualTo("1");
    }

    private static String value(Headers headers, String key) {
        return new String(headers.lastHeader(key).value(), StandardCharsets.UTF_8);
    }
}
