package io.streamrlhf.evaluator.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.evaluator.metrics.Accuracy;
import io.streamrlhf.evaluator.metrics.EvaluationSources;
import io.streamrlhf.evaluator.metrics.PolicyComparison;
import io.streamrlhf.evaluator.metrics.RmComparison;
import io.streamrlhf.evaluator.rmb.RmbGoal;
import io.streamrlhf.evaluator.rmb.RmbSet;
import io.streamrlhf.models.world.GoldReward;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.world.WorldPrompt;
import io.streamrlhf.rewardstream.scoring.Aggregation;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.avro.ScoreSource;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.topics.TopicCreator;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Policy and reward-model comparisons from replayed {@code generations}, {@code scored} and {@code preferences} topics
 * on the synthetic world, checked against the same figures computed directly from what the test wrote.
 */
class TopicEvaluatorIT {

    private static final SyntheticWorld WORLD = SyntheticWorld.standard();
    private static final GoldReward GOLD = WORLD.gold();
    private static EmbeddedCluster cluster;
    private static Topics topics;
    private static final List<Generation> written = new ArrayList<>();

    @BeforeAll
    static void writeTopics() throws Exception {
        cluster = SharedCluster.get();
        topics = Topics.builder().prefix("it-eval-" + UUID.randomUUID().toString().substring(0, 8) + ".").partitions(2)
                .registryUrl(cluster.registryUrl()).build();
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cluster.bootstrapServers()))) {
            new TopicCreator(admin).create(List.of(topics.generations(), topics.scored(), topics.preferences()));
        }
        Vocabulary vocabulary = WORLD.vocabulary();
        List<WorldPrompt> prompts = WORLD.prompts(7).next(5);
        SplittableRandom random = new SplittableRandom(11);
        for (int version = 0; version < 3; version++) {
            for (int p = 0; p < prompts.size(); p++) {
                for (int k = 0; k < 2; k++) {
                    WorldPrompt prompt = prompts.get(p);
                    List<String> words = WORLD.corpus().respond(prompt, random);
                    written.add(generation("g-" + version + "-" + p + "-" + k, "q-" + p, version,
                            vocabulary.encodePrompt(prompt), vocabulary.encodeResponse(words), prompt.text(),
                            Vocabulary.join(words)));
                }
            }
        }
        send(topics.generations(), written.stream().map(g -> new ProducerRecord<>(topics.generations().name(),
                g.getPromptId(), g)).toList());
        // scored: rm v1 scores by gold (a perfect model), rm v2 by minus gold; the reward is the policy version.
        List<ProducerRecord<String, ScoredGeneration>> scored = new ArrayList<>();
        for (Generation g : written) {
            double gold = gold(g);
            scored.add(new ProducerRecord<>(topics.scored().name(), g.getPromptId(), ScoredGeneration.newBuilder()
                    .setGeneration(g)
                    .setScores(List.of(score("rm", 1, gold), score("rm", 2, -gold)))
                    .setEnsembleMean(0).setEnsembleStd(0).setEnsembleMin(0).setAggregation("mean")
                    .setReward(g.getPolicyVersion() * 10.0).setScoredAt(Instant.now()).build()));
        }
        send(topics.scored(), scored);
        List<ProducerRecord<String, PreferencePair>> pairs = new ArrayList<>();
        String[][] texts = {{"a much longer chosen answer", "short"}, {"tiny", "a longer rejected answer"},
                {"chosen and longer", "no"}};
        for (int i = 0; i < texts.length; i++) {
            pairs.add(new ProducerRecord<>(topics.preferences().name(), "q-" + i, PreferencePair.newBuilder()
                    .setPairId("pair-" + i).setPromptId("q-" + i)
                    .setConversation(List.of(new ConversationTurn(Role.USER, "question " + i)))
                    .setChosen(texts[i][0]).setRejected(texts[i][1]).setLabelSource(FeedbackSource.SIMULATED)
                    .setCategory("Pairwise_set/Helpfulness/Synthetic").setCreatedAt(Instant.now()).build()));
        }
        send(topics.preferences(), pairs);
    }

    @Test
    void generationsAreScoredAndComparedByPolicyVersionWithGold() {
        TopicEvaluator.Result result;
        try (RewardEnsemble ensemble = EvaluationSources.ensemble(EvaluationSources.parse(List.of("rule:length")),
                Aggregation.MEAN)) {
            result = evaluator(ensemble).evaluate(TopicRange.all("generations"), done -> { });
        }

        assertThat(result.kind()).isEqualTo(TopicEvaluator.Kind.GENERATIONS);
        assertThat(result.summary().total()).isEqualTo(30);
        assertThat(result.unscorable()).isZero();
        assertThat(result.policies().rows()).hasSize(3);
        for (PolicyComparison.Row row : result.policies().rows()) {
            List<Generation> mine = written.stream().filter(g -> g.getPolicyVersion() == row.policyVersion()).toList();
            assertThat(row.n()).isEqualTo(10);
            assertThat(row.rewardMean()).isCloseTo(mine.stream().mapToDouble(g -> g.getResponseText()
                    .codePointCount(0, g.getResponseText().length())).average().orElseThrow(), within(1e-9));
            assertThat(row.goldMean()).isCloseTo(mine.stream().mapToDouble(TopicEvaluatorIT::gold).average()
                    .orElseThrow(), within(1e-9));
        }
        RmComparison rms = result.rms();
        assertThat(rms.rows()).extracting(RmComparison.Row::label).containsExactly("rule-length");
        assertThat(rms.sharedPairs()).isEqualTo(goldPairs().size());
        assertThat(rms.rows().get(0).goldPairs()).isEqualTo(expectedLengthAccuracy());
    }

    @Test
    void scoredRecordsCompareRewardModelVersionsOnTheSamePairs() {
        TopicEvaluator.Result result = evaluator(null).evaluate(TopicRange.all(topics.scored().name()), done -> { });

        assertThat(result.kind()).isEqualTo(TopicEvaluator.Kind.SCORED);
        assertThat(result.policies().rows()).extracting(PolicyComparison.Row::rewardMean)
                .containsExactly(0.0, 10.0, 20.0);
        RmComparison rms = result.rms();
        int pairs = goldPairs().size();
        assertThat(pairs).isGreaterThan(20);
        assertThat(rms.sharedPairs()).isEqualTo(pairs);
        assertThat(rms.rows()).extracting(RmComparison.Row::label).containsExactly("rm@v1", "rm@v2");
        assertThat(rms.rows().get(0).goldPairs()).isEqualTo(new Accuracy(pairs, pairs));
        assertThat(rms.rows().get(1).goldPairs()).isEqualTo(new Accuracy(0, pairs));
    }

    @Test
    void preferencesAreEvaluatedAsRmbPairwiseItems() {
        TopicEvaluator.Result result;
        try (RewardEnsemble ensemble = EvaluationSources.ensemble(EvaluationSources.parse(List.of("rule:length")),
                Aggregation.MEAN)) {
            result = evaluator(ensemble).evaluate(TopicRange.all("preferences"), done -> { });
        }

        assertThat(result.kind()).isEqualTo(TopicEvaluator.Kind.PREFERENCES);
        assertThat(result.rmb().primary().pairwise()).isEqualTo(new Accuracy(2, 3));
        assertThat(result.rmb().primary().of(RmbGoal.HELPFULNESS, RmbSet.PAIRWISE)).isEqualTo(new Accuracy(2, 3));
        assertThat(result.rmb().primary().overall()).isCloseTo(2.0 / 3, within(1e-12));
    }

    private static TopicEvaluator evaluator(RewardEnsemble ensemble) {
        return new TopicEvaluator(Map.of("bootstrap.servers", cluster.bootstrapServers()), topics, ensemble, GOLD, 8);
    }

    /** Same-prompt pairs of written generations whose gold differs, better first. */
    private static List<Generation[]> goldPairs() {
        List<Generation[]> pairs = new ArrayList<>();
        for (int a = 0; a < written.size(); a++) {
            for (int b = a + 1; b < written.size(); b++) {
                Generation x = written.get(a);
                Generation y = written.get(b);
                if (x.getPromptId().equals(y.getPromptId()) && gold(x) != gold(y)) {
                    pairs.add(gold(x) > gold(y) ? new Generation[] {x, y} : new Generation[] {y, x});
                }
            }
        }
        return pairs;
    }

    private static Accuracy expectedLengthAccuracy() {
        Accuracy acc = new Accuracy(0, 0);
        for (Generation[] pair : goldPairs()) {
            acc = acc.plus(pair[0].getResponseText().codePointCount(0, pair[0].getResponseText().length())
                    > pair[1].getResponseText().codePointCount(0, pair[1].getResponseText().length()));
        }
        return acc;
    }

    private static double gold(Generation g) {
        return GOLD.scoreIds(g.getPromptTokens().stream().mapToInt(Integer::intValue).toArray(),
                g.getResponseTokens().stream().mapToInt(Integer::intValue).toArray()).total();
    }

    private static SourceScore score(String name, long version, double raw) {
        return SourceScore.newBuilder().setScorer(name).setSource(ScoreSource.NEURAL_RM)
                .setModel(new ModelRef(name, version)).setRaw(raw).setNormalised(raw).build();
    }

    private static <V> void send(TopicSpec<String, V> spec, List<ProducerRecord<String, V>> records) {
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(Map.of("bootstrap.servers",
                cluster.bootstrapServers()), spec.keySerializer(), spec.valueSerializer())) {
            records.forEach(producer::send);
            producer.flush();
        }
    }

    private static Generation generation(String id, String promptId, long version, int[] prompt, int[] response,
                                         String promptText, String responseText) {
        Generation g = TopicReplayIT.generation(id, 0);
        g.setPromptId(promptId);
        g.setPolicyVersion(version);
        g.setPromptTokens(java.util.Arrays.stream(prompt).boxed().toList());
        g.setResponseTokens(java.util.Arrays.stream(response).boxed().toList());
        g.setBehaviourLogprobs(java.util.Collections.nCopies(response.length, -1.0f));
        g.setPromptText(promptText);
        g.setResponseText(responseText);
        return g;
    }
}
