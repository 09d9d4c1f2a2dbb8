package io.streamrlhf.rewardstream.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.rewardstream.Fixtures;
import io.streamrlhf.rewardstream.Fixtures.FunctionSource;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.NormalizationSettings;
import io.streamrlhf.rewardstream.scoring.NormalizationState;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RunningStats;
import io.streamrlhf.rewardstream.scoring.SourceFailurePolicy;
import io.streamrlhf.rewardstream.scoring.UnscorableException;
import io.streamrlhf.rewardstream.scoring.model.ReferencePolicy;
import io.streamrlhf.rewardstream.scoring.rules.LengthRule;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.serde.AvroSerdeException;
import io.streamrlhf.schemas.topics.DlqHeaders;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ScoringTopologyTest {
    private static final Duration HOUR = Duration.ofHours(1);

    private static RewardEnsemble.Builder lengthOnly(NormalizationSettings norm) {
        return RewardEnsemble.builder().add(new LengthRule("rule-length", 1.0)).normalization(norm);
    }

    private static String header(Headers headers, String key) {
        return DlqHeaders.read(headers, key);
    }

    /** The generation ids in the committed micro-batch buffer, in order. */
    private static List<String> pendingIds(TopologyHarness h) {
        PendingBatch batch = new PendingBatch();
        for (String key : List.of(MicroBatchScorer.IN_FLIGHT_KEY, MicroBatchScorer.PENDING_KEY)) {
            byte[] value = (byte[]) h.driver.getKeyValueStore(ScoringTopology.BUFFER_STORE).get(key);
            if (value != null) {
                batch.addAll(value, r -> h.topics.generations().valueDeserializer().deserialize(r.topic(),
                        r.value()));
            }
        }
        return batch.generations().stream().map(Generation::getGenerationId).toList();
    }

    /** This task's own statistics as committed in its statistics store. */
    private static NormalizationState ownStats(TopologyHarness h) {
        return NormalizationState.fromBytes((byte[]) h.driver.getKeyValueStore(ScoringTopology.STATS_STORE)
                .get(SharedNormalization.OWN_STATS_KEY));
    }

    @Test
    void batchesBySizeAndKeepsInputOrder() {
        FunctionSource source = new FunctionSource("len", in -> in.responseText().length());
        RewardEnsemble ensemble = RewardEnsemble.builder().add(source).normalization(NormalizationSettings.OFF).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 3, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "aaaa"));
            h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "b"));
            assertThat(h.scored.isEmpty()).as("two records wait for a third").isTrue();
            h.generations.pipeInput("p3", Fixtures.generation("g3", "p3", "cc"));
            List<KeyValue<String, ScoredGeneration>> out = h.scored.readKeyValuesToList();
            assertThat(out).extracting(kv -> kv.value.getGeneration().getGenerationId())
                    .containsExactly("g1", "g2", "g3");
            assertThat(out).extracting(kv -> kv.key).containsExactly("p1", "p2", "p3");
            assertThat(out).extracting(kv -> kv.value.getReward()).containsExactly(4.0, 1.0, 2.0);
            assertThat(source.batchSizes).containsExactly(3);
            for (int i = 4; i <= 9; i++) {
                h.generations.pipeInput("p" + i, Fixtures.generation("g" + i, "p" + i, "x".repeat(i)));
            }
            assertThat(h.scored.readValuesToList()).extracting(v -> v.getGeneration().getGenerationId())
                    .containsExactly("g4", "g5", "g6", "g7", "g8", "g9");
            assertThat(source.batchSizes).containsExactly(3, 3, 3);
            assertThat(pendingIds(h)).as("nothing pending after full batches").isEmpty();
            assertThat(h.driver.getKeyValueStore(ScoringTopology.BUFFER_STORE).get(MicroBatchScorer.PENDING_KEY))
                    .isNull();
        }
    }

    @Test
    void scoredRecordsCarryTheReferencesLogProbsAndItsWeightsId(@TempDir Path tmp) {
        Checkpoint sft = Fixtures.savePolicy(tmp.resolve("sft"), 5);
        FunctionSource source = new FunctionSource("len", in -> in.responseText().length());
        RewardEnsemble ensemble = RewardEnsemble.builder().add(source).normalization(NormalizationSettings.OFF).build();
        List<Generation> inputs = List.of(Fixtures.generation("g1", "p1", "a bb ccc"),
                Fixtures.generation("g2", "p2", "dddd eeeee"));
        float[][] expected;
        try (ReferencePolicy reference = ReferencePolicy.load(tmp.resolve("sft"))) {
            expected = reference.logprobs(inputs);
        }
        try (ReferencePolicy reference = ReferencePolicy.load(tmp.resolve("sft"));
             TopologyHarness h = new TopologyHarness(ensemble, 2, HOUR, HOUR, false, reference)) {
            h.generations.pipeInput("p1", inputs.get(0));
            h.generations.pipeInput("p2", inputs.get(1));
            List<ScoredGeneration> out = h.scored.readValuesToList();
            assertThat(out).hasSize(2);
            for (int i = 0; i < 2; i++) {
                ScoredGeneration s = out.get(i);
                assertThat(s.getReferenceModel()).isEqualTo(sft.weightsId());
                assertThat(s.getReferenceLogprobs()).hasSize(inputs.get(i).getResponseTokens().size());
                for (int j = 0; j < expected[i].length; j++) {
                    assertThat(s.getReferenceLogprobs().get(j)).isCloseTo(expected[i][j], within(1e-6f));
                }
            }

            // A batch the reference cannot read (a token id outside its vocabulary) is still scored, without
            // reference log-probs: the learner computes its own, and nothing goes to the dead-letter topic.
            Generation outside = Fixtures.generation("g3", "p3", "fine");
            outside.setResponseTokens(List.of(5, 99));
            outside.setBehaviourLogprobs(List.of(-0.5f, -0.5f));
            h.generations.pipeInput("p3", outside);
            h.generations.pipeInput("p4", Fixtures.generation("g4", "p4", "ok"));
            List<ScoredGeneration> next = h.scored.readValuesToList();
            assertThat(next).extracting(s -> s.getGeneration().getGenerationId()).containsExactly("g3", "g4");
            assertThat(next).allSatisfy(s -> {
                assertThat(s.getReferenceLogprobs()).isNull();
                assertThat(s.getReferenceModel()).isNull();
            });
            assertThat(h.generationsDlq.isEmpty()).isTrue();
        }
    }

    @Test
    void batchesByTimeWhenTheBatchDoesNotFill() {
        FunctionSource source = new FunctionSource("len", in -> in.responseText().length());
        RewardEnsemble ensemble = RewardEnsemble.builder().add(source).normalization(NormalizationSettings.OFF).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 100, Duration.ofMillis(500), HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "one"));
            h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "three"));
            h.driver.advanceWallClockTime(Duration.ofMillis(200));
            assertThat(h.scored.isEmpty()).as("younger than the max wait").isTrue();
            assertThat(pendingIds(h)).as("the committed buffer holds both, in order").containsExactly("g1", "g2");
            h.driver.advanceWallClockTime(Duration.ofMillis(400));
            assertThat(h.scored.readValuesToList()).extracting(v -> v.getGeneration().getGenerationId())
                    .containsExactly("g1", "g2");
            assertThat(source.batchSizes).containsExactly(2);
            h.driver.advanceWallClockTime(Duration.ofSeconds(5));
            assertThat(source.batchSizes).as("an empty buffer is never flushed").containsExactly(2);
        }
    }

    /** Three sources give 1, 2 and 4 (normalisation off): every aggregation against values worked by hand. */
    @ParameterizedTest
    @EnumSource(Aggregation.class)
    void everyAggregationMatchesHandComputedValues(Aggregation aggregation) {
        RewardEnsemble ensemble = RewardEnsemble.builder()
                .add(new FunctionSource("a", in -> 1.0))
                .add(new FunctionSource("b", in -> 2.0))
                .add(new FunctionSource("c", in -> 4.0))
                .aggregation(aggregation).k(2.0).voteThreshold(1.5)
                .normalization(NormalizationSettings.OFF).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 1, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "text"));
            ScoredGeneration s = h.scored.readValue();
            double mean = 7.0 / 3.0;
            // population std: sqrt(((1-7/3)^2 + (2-7/3)^2 + (4-7/3)^2) / 3) = sqrt(42/27)
            double std = Math.sqrt(42.0 / 27.0);
            assertThat(s.getEnsembleMean()).isCloseTo(mean, within(1e-12));
            assertThat(s.getEnsembleStd()).isCloseTo(1.247219128924647, within(1e-12));
            assertThat(s.getEnsembleStd()).isCloseTo(std, within(1e-12));
            assertThat(s.getEnsembleMin()).isEqualTo(1.0);
            assertThat(s.getAggregation()).isEqualTo(aggregation.wireName());
            double expected = switch (aggregation) {
                case MEAN -> 2.3333333333333335;
                case MIN -> 1.0;
                case MEAN_MINUS_K_STD -> 2.3333333333333335 - 2 * 1.247219128924647; // -0.1611049245
                case MAJORITY_VOTE -> 1.0; // 2 and 4 are above 1.5, 1 is not: two good votes against one
            };
            assertThat(s.getReward()).isCloseTo(expected, within(1e-12));
            assertThat(s.getScores()).extracting(SourceScore::getScorer).containsExactly("a", "b", "c");
            assertThat(s.getScores()).extracting(SourceScore::getRaw).containsExactly(1.0, 2.0, 4.0);
            assertThat(s.getScores()).extracting(SourceScore::getNormalised).containsExactly(1.0, 2.0, 4.0);
            assertThat(s.getScores()).extracting(SourceScore::getModel).containsOnlyNulls();
        }
    }

    @Test
    void majorityVoteTieGivesZeroAndMajorityBadGivesMinusOne() {
        RewardEnsemble tie = RewardEnsemble.builder().add(new FunctionSource("a", in -> 1.0))
                .add(new FunctionSource("b", in -> -1.0)).aggregation(Aggregation.MAJORITY_VOTE)
                .normalization(NormalizationSettings.OFF).build();
        assertThat(tie.aggregate(List.of(
                new io.streamrlhf.rewardstream.scoring.SourceResult("a", null, null, 1, 1),
                new io.streamrlhf.rewardstream.scoring.SourceResult("b", null, null, -1, -1))).reward()).isZero();
        assertThat(tie.aggregate(List.of(
                new io.streamrlhf.rewardstream.scoring.SourceResult("a", null, null, -1, -1),
                new io.streamrlhf.rewardstream.scoring.SourceResult("b", null, null, -2, -2),
                new io.streamrlhf.rewardstream.scoring.SourceResult("c", null, null, 3, 3))).reward()).isEqualTo(-1.0);
    }

    @Test
    void normalisationStatisticsAreWelfordAndPersistWithAVersion() {
        RewardEnsemble ensemble = lengthOnly(new NormalizationSettings(true, 0, 1e-8)).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 3, HOUR, HOUR)) {
            // lengths in code points: 1, 2, 3 ("é" and the emoji count once each)
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "é"));
            h.generations.pipeInput("p2", Fixtures.generation("g2", "p2", "a\uD83D\uDE00"));
            h.generations.pipeInput("p3", Fixtures.generation("g3", "p3", "abc"));
            List<TestRecord<String, ScoredGeneration>> first = h.scored.readRecordsToList();
            // after the batch: n=3, mean=2, population variance 2/3
            double sd = Math.sqrt(2.0 / 3.0 + 1e-8);
            assertThat(first).extracting(r -> r.value().getScores().get(0).getRaw()).containsExactly(1.0, 2.0, 3.0);
            assertThat(first.get(0).value().getScores().get(0).getNormalised()).isCloseTo(-1 / sd, within(1e-9));
            assertThat(first.get(1).value().getScores().get(0).getNormalised()).isCloseTo(0.0, within(1e-12));
            assertThat(first.get(2).value().getScores().get(0).getNormalised()).isCloseTo(1 / sd, within(1e-9));
            assertThat(first.get(0).value().getReward()).isCloseTo(-1.2247448622, within(1e-8));
            assertThat(header(first.get(0).headers(), SharedNormalization.NORM_VERSION_HEADER)).isEqualTo("1");
            assertThat(header(first.get(0).headers(), SharedNormalization.NORM_COUNT_HEADER_PREFIX + "rule-length"))
                    .isEqualTo("3");

            RunningStats stats = ownStats(h).get("rule-length");
            assertThat(stats.count()).isEqualTo(3);
            assertThat(stats.mean()).isCloseTo(2.0, within(1e-12));
            assertThat(stats.m2()).isCloseTo(2.0, within(1e-12));

            for (String text : List.of("abcdef", "ab", "abcd")) {
                h.generations.pipeInput("q", Fixtures.generation("g-" + text, "q", text));
            }
            List<TestRecord<String, ScoredGeneration>> second = h.scored.readRecordsToList();
            // values 1,2,3,6,2,4: mean 3, squared deviations 4+1+0+9+1+1 = 16, variance 16/6
            double sd2 = Math.sqrt(16.0 / 6.0 + 1e-8);
            assertThat(second.get(0).value().getScores().get(0).getNormalised()).isCloseTo(3 / sd2, within(1e-9));
            assertThat(second.get(1).value().getScores().get(0).getNormalised()).isCloseTo(-1 / sd2, within(1e-9));
            assertThat(header(second.get(0).headers(), SharedNormalization.NORM_VERSION_HEADER)).isEqualTo("2");
            RunningStats after = ownStats(h).get("rule-length");
            assertThat(after.count()).isEqualTo(6);
            assertThat(after.variance()).isCloseTo(16.0 / 6.0, within(1e-12));
        }
    }

    @Test
    void normalisedScoresAreClipped() {
        RewardEnsemble ensemble = lengthOnly(new NormalizationSettings(true, 1.0, 1e-8)).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 4, HOUR, HOUR)) {
            List<String> texts = List.of("a", "a", "a", "aaaaaaaaaaaaaaaaaaaa");
            for (int i = 0; i < texts.size(); i++) {
                h.generations.pipeInput("p", Fixtures.generation("g" + i, "p", texts.get(i)));
            }
            List<ScoredGeneration> out = h.scored.readValuesToList();
            // mean 5.75, population std 8.2272; the long one is +1.73 sd before clipping
            assertThat(out.get(3).getScores().get(0).getNormalised()).isEqualTo(1.0);
            assertThat(out.get(0).getScores().get(0).getNormalised()).isCloseTo(-4.75 / Math.sqrt(67.6875 + 1e-8),
                    within(1e-9));
        }
    }

    @Test
    void corruptRecordGoesToTheDlqWithHeadersAndTheStreamContinues() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR, HOUR)) {
            byte[] garbage = "{not avro at all}".getBytes(StandardCharsets.UTF_8);
            h.rawGenerations.pipeInput("p-bad".getBytes(StandardCharsets.UTF_8), garbage);
            // Observable as soon as the bad record's transaction commits, with no later record needed.
            assertThat(h.generationsDlq.getQueueSize()).as("dead letter committed with its input").isEqualTo(1);
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "fine"));

            TestRecord<byte[], byte[]> dead = h.generationsDlq.readRecord();
            assertThat(dead.value()).isEqualTo(garbage);
            assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("p-bad");
            Headers headers = dead.headers();
            assertThat(header(headers, DlqHeaders.SOURCE_TOPIC)).isEqualTo("t.generations");
            assertThat(header(headers, DlqHeaders.SOURCE_PARTITION)).isEqualTo("0");
            assertThat(header(headers, DlqHeaders.SOURCE_OFFSET)).isEqualTo("0");
            assertThat(header(headers, DlqHeaders.ERROR_CLASS)).isEqualTo(AvroSerdeException.class.getName());
            assertThat(header(headers, DlqHeaders.ERROR_MESSAGE)).contains("magic byte");
            assertThat(header(headers, DlqHeaders.COMPONENT)).isEqualTo("reward-stream");
            assertThat(h.generationsDlq.isEmpty()).isTrue();
            assertThat(h.scored.readValue().getGeneration().getGenerationId()).isEqualTo("g1");
            assertThat(h.deadLetters.total("t.generations")).isEqualTo(1.0);
        }
    }

    @Test
    void aRegistryOutageIsRetriedAndDeadLettersNothing() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR, HOUR)) {
            h.outage.failures.set(3);
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "fine"));

            assertThat(h.generationsDlq.isEmpty()).as("nothing dead-lettered because the registry was down").isTrue();
            assertThat(h.scored.readValue().getGeneration().getGenerationId()).isEqualTo("g1");
            assertThat(h.outage.failures).hasValue(0);
            assertThat(h.deadLetters.total("t.generations")).isEqualTo(0.0);
        }
    }

    @Test
    void unknownSchemaIdGoesToTheDlq() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR, HOUR)) {
            // Confluent wire format: magic 0, schema id 0x7fff (never registered), then some Avro bytes.
            byte[] unknownId = {0, 0, 0, 0x7f, (byte) 0xff, 2, 4, 6, 8};
            h.generations.pipeInput("p0", Fixtures.generation("g0", "p0", "ok"));
            h.rawGenerations.pipeInput("p9".getBytes(StandardCharsets.UTF_8), unknownId);
            TestRecord<byte[], byte[]> dead = h.generationsDlq.readRecord();
            assertThat(dead.value()).isEqualTo(unknownId);
            assertThat(header(dead.headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("1");
            assertThat(header(dead.headers(), DlqHeaders.ERROR_CLASS)).isEqualTo(AvroSerdeException.class.getName());
            assertThat(header(dead.headers(), DlqHeaders.ERROR_MESSAGE)).contains("32767");
            assertThat(h.scored.readValuesToList()).hasSize(1);
            assertThat(h.deadLetters.total("t.generations")).isEqualTo(1.0);
        }
    }

    @Test
    void nanScoreGoesToTheDlqAndTheRestOfTheBatchIsScoredInOrder() {
        FunctionSource nanOnBad = new FunctionSource("picky", in -> in.responseText().contains("bad") ? Double.NaN : 1);
        RewardEnsemble ensemble = RewardEnsemble.builder().add(new LengthRule("rule-length", 1)).add(nanOnBad)
                .normalization(NormalizationSettings.OFF).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 3, HOUR, HOUR)) {
            Generation bad = Fixtures.generation("g2", "p2", "bad answer");
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "good"));
            h.generations.pipeInput("p2", bad);
            h.generations.pipeInput("p3", Fixtures.generation("g3", "p3", "fine"));

            assertThat(h.scored.readValuesToList()).extracting(v -> v.getGeneration().getGenerationId())
                    .containsExactly("g1", "g3");
            TestRecord<byte[], byte[]> dead = h.generationsDlq.readRecord();
            assertThat(new String(dead.key(), StandardCharsets.UTF_8)).isEqualTo("p2");
            assertThat(h.topics.generations().valueDeserializer().deserialize("t.generations", dead.value()))
                    .isEqualTo(bad);
            assertThat(header(dead.headers(), DlqHeaders.SOURCE_TOPIC)).isEqualTo("t.generations");
            assertThat(header(dead.headers(), DlqHeaders.SOURCE_PARTITION)).isEqualTo("0");
            assertThat(header(dead.headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("1");
            assertThat(header(dead.headers(), DlqHeaders.ERROR_CLASS)).isEqualTo(UnscorableException.class.getName());
            assertThat(header(dead.headers(), DlqHeaders.ERROR_MESSAGE)).contains("picky").contains("NaN").contains("g2");
            assertThat(h.deadLetters.total("t.generations")).isEqualTo(1.0);
        }
    }

    @Test
    void withSkipPolicyANanSourceIsLeftOutAndTheOthersScore() {
        FunctionSource inf = new FunctionSource("inf", in -> Double.POSITIVE_INFINITY);
        RewardEnsemble ensemble = RewardEnsemble.builder().add(new LengthRule("rule-length", 1)).add(inf)
                .onSourceFailure(SourceFailurePolicy.SKIP).normalization(NormalizationSettings.OFF).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 1, HOUR, HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "four"));
            ScoredGeneration s = h.scored.readValue();
            assertThat(s.getScores()).extracting(SourceScore::getScorer).containsExactly("rule-length");
            assertThat(s.getReward()).isEqualTo(4.0);
            assertThat(h.generationsDlq.isEmpty()).isTrue();
        }
    }

    @Test
    void feedbackJoinsGenerationsInsideTheWindow() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR,
                Duration.ofMinutes(10))) {
            Instant t = Fixtures.T0;
            h.generations.pipeInput("p1", Fixtures.generation("g-a", "p1", "first answer"), t);
            h.generations.pipeInput("p1", Fixtures.generation("g-b", "p1", "second answer"), t.plusSeconds(1));
            h.feedback.pipeInput("p1", Fixtures.pairwise("f1", "p1", List.of("g-a", "g-b"), 1), t.plusSeconds(300));

            TestRecord<String, PreferencePair> out = h.preferences.readRecord();
            assertThat(out.key()).isEqualTo("p1");
            PreferencePair pair = out.value();
            assertThat(pair.getPairId()).isEqualTo("f1");
            assertThat(pair.getChosen()).isEqualTo("second answer");
            assertThat(pair.getRejected()).isEqualTo("first answer");
            assertThat(pair.getChosenGenerationId()).isEqualTo("g-b");
            assertThat(pair.getRejectedGenerationId()).isEqualTo("g-a");
            assertThat(pair.getConversation().get(0).getContent()).isEqualTo("tell me about p1");
            assertThat(pair.getConfidence()).isEqualTo(0.9);
            assertThat(pair.getCategory()).isEqualTo("cat");
            assertThat(h.preferences.isEmpty()).isTrue();
            assertThat(h.feedbackDlq.isEmpty()).isTrue();

            // best of three: the best against each of the two others
            h.generations.pipeInput("p1", Fixtures.generation("g-c", "p1", "third"), t.plusSeconds(2));
            h.feedback.pipeInput("p1", Fixtures.pairwise("f2", "p1", List.of("g-a", "g-b", "g-c"), 2),
                    t.plusSeconds(400));
            assertThat(h.preferences.readValuesToList()).extracting(PreferencePair::getPairId, PreferencePair::getChosen,
                    PreferencePair::getRejected).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("f2/0", "third", "first answer"),
                    org.assertj.core.groups.Tuple.tuple("f2/1", "third", "second answer"));
        }
    }

    @Test
    void feedbackOutsideTheWindowOrNamingUnknownGenerationsGoesToTheDlq() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR,
                Duration.ofMinutes(10))) {
            Instant t = Fixtures.T0;
            h.generations.pipeInput("p1", Fixtures.generation("g-a", "p1", "first"), t);
            h.generations.pipeInput("p1", Fixtures.generation("g-b", "p1", "second"), t);
            h.feedback.pipeInput("p1", Fixtures.pairwise("late", "p1", List.of("g-a", "g-b"), 0),
                    t.plus(Duration.ofMinutes(11)));
            h.feedback.pipeInput("p1", Fixtures.pairwise("ghost", "p1", List.of("g-a", "g-zzz"), 0),
                    t.plus(Duration.ofMinutes(5)));
            // "late" names stored generations outside its window and goes at once; "ghost" waits for g-zzz.
            h.driver.advanceWallClockTime(ScoringTopology.Settings.DEFAULT_PENDING_MAX_WAIT);
            assertThat(h.preferences.isEmpty()).isTrue();
            List<TestRecord<byte[], byte[]>> dead = h.feedbackDlq.readRecordsToList();
            assertThat(dead).hasSize(2);
            assertThat(header(dead.get(0).headers(), DlqHeaders.ERROR_CLASS))
                    .isEqualTo(FeedbackRejectedException.class.getName());
            assertThat(header(dead.get(0).headers(), DlqHeaders.ERROR_MESSAGE))
                    .contains("late").contains("unknown generation").contains("g-a").contains("g-b");
            assertThat(header(dead.get(0).headers(), DlqHeaders.SOURCE_TOPIC)).isEqualTo("t.feedback");
            assertThat(header(dead.get(0).headers(), DlqHeaders.SOURCE_OFFSET)).isEqualTo("0");
            assertThat(header(dead.get(1).headers(), DlqHeaders.ERROR_MESSAGE)).contains("[g-zzz]").contains("waited");
            assertThat(h.topics.feedback().valueDeserializer().deserialize("t.feedback", dead.get(1).value())
                    .getFeedbackId()).isEqualTo("ghost");
            assertThat(h.deadLetters.total("t.feedback")).isEqualTo(2.0);
        }
    }

    @Test
    void inlineFeedbackPassesStraightThrough() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR, HOUR)) {
            h.feedback.pipeInput("p7", Fixtures.inline("f-in", "p7", "worse", "better", 1));
            PreferencePair pair = h.preferences.readValue();
            assertThat(pair.getChosen()).isEqualTo("better");
            assertThat(pair.getRejected()).isEqualTo("worse");
            assertThat(pair.getChosenGenerationId()).isNull();
            assertThat(pair.getConversation().get(0).getContent()).isEqualTo("question p7");
            assertThat(pair.getLabelSource().name()).isEqualTo("HUMAN");
        }
    }

    @Test
    void storesExistWithTheDocumentedNames() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR, HOUR)) {
            Map<String, ?> stores = h.driver.getAllStateStores();
            assertThat(stores).containsKeys(ScoringTopology.BUFFER_STORE, ScoringTopology.STATS_STORE,
                    ScoringTopology.GENERATIONS_STORE, ScoringTopology.RM_VERSIONS_STORE, ScoringTopology.PENDING_STORE,
                    ScoringTopology.JOINED_STORE, ScoringTopology.RATINGS_STORE);
        }
    }

    /** Population mean and variance by the two-pass formula, the reference for merged statistics. */
    private static double[] meanAndVariance(double... xs) {
        double mean = 0;
        for (double x : xs) {
            mean += x;
        }
        mean /= xs.length;
        double m2 = 0;
        for (double x : xs) {
            m2 += (x - mean) * (x - mean);
        }
        return new double[] {mean, m2 / xs.length};
    }

    @Test
    void statisticsArePublishedPerTaskAndMergedAcrossPartitions() {
        RewardEnsemble ensemble = lengthOnly(new NormalizationSettings(true, 0, 1e-8)).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 2, HOUR, HOUR)) {
            // Another partition's task has seen the lengths 10 and 20 (mean 15, m2 50) in 4 batches.
            NormalizationState theirs = new NormalizationState(
                    Map.of("rule-length", new RunningStats(2, 15.0, 50.0)), 4);
            h.sharedStatsIn.pipeInput("0_1", theirs.toBytes());

            h.generations.pipeInput("p", Fixtures.generation("g1", "p", "a"));
            h.generations.pipeInput("p", Fixtures.generation("g2", "p", "abc"));
            List<TestRecord<String, ScoredGeneration>> first = h.scored.readRecordsToList();
            // combined: 1, 3, 10, 20 -> mean 8.5, squared deviations 56.25 + 30.25 + 2.25 + 132.25 = 221, var 55.25
            double sd = Math.sqrt(55.25 + 1e-8);
            assertThat(first.get(0).value().getScores().get(0).getNormalised()).isCloseTo(-7.5 / sd, within(1e-9));
            assertThat(first.get(1).value().getScores().get(0).getNormalised()).isCloseTo(-5.5 / sd, within(1e-9));
            assertThat(header(first.get(0).headers(), SharedNormalization.NORM_VERSION_HEADER))
                    .as("own batch 1 + the other task's 4").isEqualTo("5");
            assertThat(header(first.get(0).headers(), SharedNormalization.NORM_COUNT_HEADER_PREFIX + "rule-length"))
                    .isEqualTo("4");

            // The task keeps and publishes only its own partition's statistics: 1 and 3.
            NormalizationState own = ownStats(h);
            assertThat(own.version()).isEqualTo(1);
            assertThat(own.get("rule-length")).isEqualTo(new RunningStats(2, 2.0, 2.0));
            TestRecord<String, byte[]> published = h.sharedStatsOut.readRecord();
            assertThat(published.key()).isEqualTo("0_0");
            assertThat(NormalizationState.fromBytes(published.value()).get("rule-length"))
                    .isEqualTo(new RunningStats(2, 2.0, 2.0));

            assertThat(h.driver.getKeyValueStore(ScoringTopology.NORM_STATS_GLOBAL_STORE).get("0_0"))
                    .as("our own record came back through the global store").isNotNull();
            // The other task moves on (its record replaces the old one); our own published record is not counted
            // twice. Combined now: own 1, 3, 6, 6 and theirs 10, 20, 30.
            h.sharedStatsIn.pipeInput("0_1", new NormalizationState(Map.of("rule-length",
                    RunningStats.EMPTY.add(10).add(20).add(30)), 7).toBytes());
            h.generations.pipeInput("p", Fixtures.generation("g3", "p", "abcdef"));
            h.generations.pipeInput("p", Fixtures.generation("g4", "p", "ghijkl"));
            List<TestRecord<String, ScoredGeneration>> second = h.scored.readRecordsToList();
            double[] mv = meanAndVariance(1, 3, 6, 6, 10, 20, 30);
            assertThat(second.get(0).value().getScores().get(0).getNormalised())
                    .isCloseTo((6 - mv[0]) / Math.sqrt(mv[1] + 1e-8), within(1e-9));
            assertThat(header(second.get(0).headers(), SharedNormalization.NORM_VERSION_HEADER)).isEqualTo("9");
            assertThat(header(second.get(0).headers(), SharedNormalization.NORM_COUNT_HEADER_PREFIX + "rule-length"))
                    .isEqualTo("7");
            assertThat(ownStats(h).get("rule-length").count()).isEqualTo(4);
        }
    }

    @Test
    void everyInputEndsUpScoredOrDeadLetteredExactlyOnce() {
        FunctionSource nanOnBad = new FunctionSource("picky", in -> in.responseText().contains("bad") ? Double.NaN : 1);
        RewardEnsemble ensemble = RewardEnsemble.builder().add(nanOnBad).normalization(NormalizationSettings.OFF)
                .build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 2, Duration.ofMillis(100), HOUR)) {
            h.generations.pipeInput("p1", Fixtures.generation("g1", "p1", "good"));
            h.rawGenerations.pipeInput("p2".getBytes(StandardCharsets.UTF_8), new byte[] {1, 2, 3});
            h.generations.pipeInput("p3", Fixtures.generation("g3", "p3", "bad"));
            h.rawGenerations.pipeInput("p4".getBytes(StandardCharsets.UTF_8), (byte[]) null);
            h.generations.pipeInput("p5", Fixtures.generation("g5", "p5", "good too"));
            assertThat(pendingIds(h)).as("the odd one waits in the committed buffer").containsExactly("g5");
            h.driver.advanceWallClockTime(Duration.ofMillis(200));

            assertThat(h.scored.readValuesToList()).extracting(v -> v.getGeneration().getGenerationId())
                    .containsExactly("g1", "g5");
            List<TestRecord<byte[], byte[]>> dead = h.generationsDlq.readRecordsToList();
            assertThat(dead).extracting(r -> header(r.headers(), DlqHeaders.SOURCE_OFFSET))
                    .containsExactlyInAnyOrder("1", "2", "3");
            assertThat(dead).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                    .containsExactlyInAnyOrder("p2", "p3", "p4");
            TestRecord<byte[], byte[]> tombstone = dead.stream()
                    .filter(r -> "3".equals(header(r.headers(), DlqHeaders.SOURCE_OFFSET))).findFirst().orElseThrow();
            assertThat(tombstone.value()).isNull();
            assertThat(header(tombstone.headers(), DlqHeaders.ERROR_MESSAGE)).contains("tombstone");
            assertThat(h.deadLetters.total("t.generations")).isEqualTo(3.0);
            assertThat(pendingIds(h)).isEmpty();
        }
    }

    @Test
    void unreadableFeedbackGoesToTheFeedbackDlq() {
        try (TopologyHarness h = new TopologyHarness(lengthOnly(NormalizationSettings.OFF).build(), 1, HOUR, HOUR)) {
            byte[] garbage = {0, 0, 0, 0, 42, 1};
            h.rawFeedback.pipeInput("p1".getBytes(StandardCharsets.UTF_8), garbage);
            TestRecord<byte[], byte[]> dead = h.feedbackDlq.readRecord();
            assertThat(dead.value()).isEqualTo(garbage);
            assertThat(header(dead.headers(), DlqHeaders.SOURCE_TOPIC)).isEqualTo("t.feedback");
            assertThat(header(dead.headers(), DlqHeaders.ERROR_CLASS)).isEqualTo(AvroSerdeException.class.getName());
            assertThat(h.preferences.isEmpty()).isTrue();
            assertThat(h.deadLetters.total("t.feedback")).isEqualTo(1.0);
        }
    }

    @Test
    void pipelinedBatchesAreScoredOffTheStreamThreadAndStayBufferedUntilWritten() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        List<String> threads = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
        FunctionSource gated = new FunctionSource("len", in -> {
            threads.add(Thread.currentThread().getName());
            if (in.id().equals("g3")) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return in.responseText().length();
        });
        RewardEnsemble ensemble = RewardEnsemble.builder().add(gated).normalization(NormalizationSettings.OFF).build();
        try (TopologyHarness h = new TopologyHarness(ensemble, 2, Duration.ofMillis(500), HOUR, true)) {
            for (int i = 1; i <= 6; i++) {
                h.generations.pipeInput("p" + i, Fixtures.generation("g" + i, "p" + i, "x".repeat(i)));
            }
            // Batch 2 (g3, g4) is held in the scorer and batch 3 (g5, g6) queued behind it; with two batches in
            // flight and a full one waiting, the stream thread wrote batch 1. The rest stays in the committed buffer.
            assertThat(h.scored.readValuesToList()).extracting(v -> v.getGeneration().getGenerationId())
                    .containsExactly("g1", "g2");
            h.generations.pipeInput("p7", Fixtures.generation("g7", "p7", "x".repeat(7)));
            assertThat(pendingIds(h)).containsExactly("g3", "g4", "g5", "g6", "g7");
            assertThat(h.scored.isEmpty()).isTrue();

            release.countDown();
            List<ScoredGeneration> out = new java.util.ArrayList<>();
            for (int i = 0; i < 500 && out.size() < 4; i++) {
                Thread.sleep(5);
                h.driver.advanceWallClockTime(Duration.ofMillis(1)); // a punctuation picks finished batches up
                out.addAll(h.scored.readValuesToList());
            }
            assertThat(out).extracting(v -> v.getGeneration().getGenerationId())
                    .containsExactly("g3", "g4", "g5", "g6");
            assertThat(pendingIds(h)).containsExactly("g7");
            h.driver.advanceWallClockTime(Duration.ofMillis(600)); // g7's time limit: scored and picked up later
            for (int i = 0; i < 500 && out.size() < 5; i++) {
                Thread.sleep(5);
                h.driver.advanceWallClockTime(Duration.ofMillis(1));
                out.addAll(h.scored.readValuesToList());
            }
            assertThat(out).extracting(v -> v.getGeneration().getGenerationId())
                    .containsExactly("g3", "g4", "g5", "g6", "g7");
            assertThat(out).extracting(ScoredGeneration::getReward).containsExactly(3.0, 4.0, 5.0, 6.0, 7.0);
            assertThat(pendingIds(h)).isEmpty();
            assertThat(gated.batchSizes).containsExactly(2, 2, 2, 1);
            assertThat(threads).as("scored off the stream thread").allMatch(t -> t.startsWith("reward-scorer-0_0"));
        }
    }
}
