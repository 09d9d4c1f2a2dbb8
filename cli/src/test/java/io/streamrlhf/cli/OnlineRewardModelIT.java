package io.streamrlhf.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.embedded.EmbeddedCluster;
import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.learner.rm.online.OnlineRmConfig;
import io.streamrlhf.learner.rm.online.OnlineRmTrainer;
import io.streamrlhf.learner.rm.online.RmCheckpoint;
import io.streamrlhf.learner.rm.online.RmCheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.transformer.TransformerConfig;
import io.streamrlhf.models.world.PreferenceRecord;
import io.streamrlhf.models.world.PreferenceSetGenerator;
import io.streamrlhf.models.world.ResponseSource;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.rewardstream.app.RewardStreamConfig;
import io.streamrlhf.rewardstream.app.ScoringApp;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.RewardSources;
import io.streamrlhf.rewardstream.scoring.RewardSpec;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.Feedback;
import io.streamrlhf.schemas.avro.FeedbackKind;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.FinishReason;
import io.streamrlhf.schemas.avro.Generation;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.avro.SamplingParams;
import io.streamrlhf.schemas.avro.ScoredGeneration;
import io.streamrlhf.schemas.avro.SourceScore;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The online reward-model loop end to end, on the embedded broker and registry, with every part running at once as
 * in a deployment: the reward stream ({@link ScoringApp}: scoring with a DJL reward model that follows
 * {@code rm.versions}, and the feedback join) and the {@link OnlineRmTrainer} consuming {@code preferences}.
 *
 * <p>Feedback labels (some naming generations the stream has seen, most with inline texts) become preference pairs
 * through the join; the trainer fine-tunes on them and publishes version 2; the stream verifies and hot-swaps it;
 * the same responses sent again are then scored with version 2, and their scores are the published checkpoint's,
 * not version 1's.
 *
 * <p>Lives in {@code cli} because it is the module that depends on both the reward stream and the learner (the
 * learner must not depend on Kafka Streams).
 */
class OnlineRewardModelIT {

    /** Probe prompts: each has two generations, scored before and after the swap, and one label naming both. */
    private static final int PROBES = 3;
    /** Labels with inline texts. */
    private static final int INLINE = 37;
    /** Every label is PAIRWISE, so one pair each; the trainer's round starts when all have arrived. */
    private static final int PAIRS = PROBES + INLINE;

    private static EmbeddedCluster cluster;

    @TempDir
    Path dir;

    @BeforeAll
    static void useTheSharedCluster() {
        ModelRuntime.init(1);
        cluster = SharedCluster.get();
    }

    @Test
    void feedbackBecomesPreferencesThenAVersionThatTheRunningStreamSwapsInAndScoresWith() throws Exception {
        long begin = System.nanoTime();
        SyntheticWorld world = SyntheticWorld.standard();
        PairEncoder encoder = PairEncoder.of(world.vocabulary());
        CatalogTopics catalog = CatalogTopics.on(cluster.bootstrapServers(), cluster.registryUrl())
                .prefix("onrm" + UUID.randomUUID().toString().substring(0, 8) + ".").partitions(1)
                .timeout(Duration.ofSeconds(30)).create();
        Map<String, Object> settings = catalog.settings();
        Topics topics = catalog.topics();

        // Version 1: an initial reward model, stored as the trainer's first checkpoint (as the demo seeds it), so the
        // stream scores with it and the trainer's first round fine-tunes it into version 2.
        TransformerConfig shape = new TransformerConfig(world.vocabulary().size(), 64, 16, 1, 2);
        Path rmDir = dir.resolve("rm");
        RmCheckpointStore store = new RmCheckpointStore(rmDir);
        try (TransformerRewardModel initial = TransformerRewardModel.create(shape, 41)) {
            store.save(new RmCheckpoint(1, 0, List.of(initial.toCheckpoint(Map.of("name", "rm-0", "version", "1"),
                    null)), Map.of(), 0, 0, Map.of()));
        }
        Path v1Dir = store.memberDir(1, 0);

        List<PreferenceRecord> records = new PreferenceSetGenerator(world.prompts(31),
                ResponseSource.grammar(world.corpus(), 32), world.gold(), new SimulatedRater(0.5, 0.1, 33), 64)
                .generate(PAIRS);
        List<Generation> before = probes(records, encoder, "before");
        List<Generation> after = probes(records, encoder, "after");

        Map<String, Object> streamSettings = new HashMap<>(settings);
        streamSettings.put(RewardStreamConfig.APPLICATION_ID, "onrm-" + UUID.randomUUID());
        streamSettings.put(RewardStreamConfig.SOURCES, "rm:" + v1Dir.toAbsolutePath() + ";name=rm-0");
        streamSettings.put(RewardStreamConfig.NORMALIZE, false);  // raw scores, comparable across versions
        streamSettings.put(RewardStreamConfig.BATCH_SIZE, 4);
        streamSettings.put(RewardStreamConfig.BATCH_MAX_WAIT_MS, 100L);
        streamSettings.put(RewardStreamConfig.STATE_DIR, dir.resolve("streams").toString());

        Map<String, Object> trainerSettings = new HashMap<>(settings);
        trainerSettings.put(OnlineRmConfig.NAME, "rm");
        trainerSettings.put(OnlineRmConfig.ENSEMBLE_SIZE, 1);
        trainerSettings.put(OnlineRmConfig.METHOD, "bt");
        trainerSettings.put(OnlineRmConfig.CHECKPOINT_DIR, rmDir.toString());
        trainerSettings.put(OnlineRmConfig.TRAIN_EVERY_PAIRS, PAIRS);
        trainerSettings.put(OnlineRmConfig.TRAIN_MAX_WAIT_MS, 600_000L);  // only the pair count starts the round
        trainerSettings.put(OnlineRmConfig.EPOCHS, 2);
        trainerSettings.put(OnlineRmConfig.BATCH_SIZE, 8);
        trainerSettings.put(OnlineRmConfig.D_MODEL, shape.dModel());
        trainerSettings.put(OnlineRmConfig.LAYERS, shape.layers());
        trainerSettings.put(OnlineRmConfig.HEADS, shape.heads());
        trainerSettings.put(OnlineRmConfig.CONTEXT, shape.contextLength());
        trainerSettings.put(OnlineRmConfig.META_GENERATIONS, 0);
        trainerSettings.put(OnlineRmConfig.MAX_ROUNDS, 1L);
        trainerSettings.put(OnlineRmConfig.THREADS, 1);

        OnlineRmTrainer trainer = new OnlineRmTrainer(trainerSettings, topics, RmProgress.NONE);
        Thread trainerThread = new Thread(trainer::run, "online-rm-trainer");
        try (ScoringApp app = ScoringApp.create(streamSettings);
             KafkaConsumer<String, ScoredGeneration> scoredReader = reader(topics.scored());
             KafkaConsumer<String, PreferencePair> preferenceReader = reader(topics.preferences());
             KafkaConsumer<String, RewardModelVersion> versionReader = reader(topics.rmVersions())) {
            app.start();
            assertThat(app.awaitReady(Duration.ofSeconds(60))).as("reward stream running").isTrue();
            RewardSource rm = app.ensemble().source("rm-0");
            assertThat(rm.version()).isEqualTo(1L);
            trainerThread.start();

            // 1. The probes are scored by version 1.
            produce(topics.generations(), before, Generation::getPromptId);
            List<ScoredGeneration> scoredBefore = poll(scoredReader, before.size(), Duration.ofSeconds(60), x -> true);
            assertThat(scoredBefore).hasSize(before.size());
            double[] v1Scores = rawScores(scoredBefore, before, 1L);
            assertThat(v1Scores).as("what version 1 gives offline").containsExactly(offline(v1Dir, before), within(1e-4));

            // 2. Feedback: one label per probe prompt naming its two generations, the rest with inline texts.
            List<Feedback> feedback = new ArrayList<>();
            for (int i = 0; i < PROBES; i++) {
                feedback.add(Feedback.newBuilder()
                        .setFeedbackId("fb-named-" + i)
                        .setPromptId(before.get(2 * i).getPromptId())
                        .setKind(FeedbackKind.PAIRWISE)
                        .setGenerationIds(List.of(before.get(2 * i).getGenerationId(),
                                before.get(2 * i + 1).getGenerationId()))
                        .setPreferredIndex(0)
                        .setAnnotatorId("rater-sim")
                        .setSource(FeedbackSource.SIMULATED)
                        .setCreatedAt(Instant.now())
                        .build());
            }
            for (int i = PROBES; i < PAIRS; i++) {
                PreferenceRecord r = records.get(i);
                boolean chosenFirst = i % 2 == 0;  // both positions of the preferred text
                feedback.add(Feedback.newBuilder()
                        .setFeedbackId("fb-inline-" + i)
                        .setPromptId("prompt-inline-" + i)
                        .setKind(FeedbackKind.PAIRWISE)
                        .setConversation(List.of(new ConversationTurn(Role.USER, r.prompt())))
                        .setTexts(chosenFirst ? List.of(r.chosen(), r.rejected()) : List.of(r.rejected(), r.chosen()))
                        .setPreferredIndex(chosenFirst ? 0 : 1)
                        .setAnnotatorId("human-1")
                        .setSource(FeedbackSource.HUMAN)
                        .setCreatedAt(Instant.now())
                        .build());
            }
            produce(topics.feedback(), feedback, Feedback::getPromptId);

            // 3. The join turns every label into a pair on preferences (the trainer's write-backs are told apart
            //    by their origin header).
            List<ConsumerRecord<String, PreferencePair>> pairRecords = pollRecords(preferenceReader, PAIRS,
                    Duration.ofSeconds(60), r -> !fromTrainer(r));
            Map<String, PreferencePair> pairs = new LinkedHashMap<>();
            pairRecords.forEach(r -> pairs.put(r.value().getPairId(), r.value()));
            assertThat(pairs).as("one pair per label").hasSize(PAIRS);
            for (int i = 0; i < PROBES; i++) {
                PreferencePair p = pairs.get("fb-named-" + i);
                assertThat(p.getChosenGenerationId()).isEqualTo(before.get(2 * i).getGenerationId());
                assertThat(p.getChosen()).isEqualTo(records.get(i).chosen());
                assertThat(p.getRejected()).isEqualTo(records.get(i).rejected());
                assertThat(p.getConversation().get(0).getContent()).isEqualTo(records.get(i).prompt());
            }
            PreferencePair inline = pairs.get("fb-inline-" + (PROBES + 1));
            assertThat(inline.getChosen()).isEqualTo(records.get(PROBES + 1).chosen());
            assertThat(inline.getLabelSource()).isEqualTo(FeedbackSource.HUMAN);

            // 4. The trainer's round publishes version 2, and the running stream swaps it in.
            trainerThread.join(Duration.ofSeconds(90).toMillis());
            assertThat(trainerThread.isAlive()).as("the trainer finished its one round").isFalse();
            assertThat(trainer.version()).isEqualTo(2L);
            List<RewardModelVersion> published = poll(versionReader, 1, Duration.ofSeconds(30), x -> true);
            assertThat(published).singleElement().satisfies(v -> {
                assertThat(v.getName()).isEqualTo("rm-0");
                assertThat(v.getVersion()).isEqualTo(2L);
                assertThat(v.getParentVersion()).isEqualTo(1L);
                assertThat(v.getMetrics().get("data/new_pairs")).isEqualTo((double) PAIRS);
            });
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (rm.version() < 2 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(rm.version()).as("the stream hot-swapped the published version").isEqualTo(2L);

            // 5. The same responses, sent again, are scored by version 2: the published checkpoint's scores.
            produce(topics.generations(), after, Generation::getPromptId);
            List<ScoredGeneration> scoredAfter = poll(scoredReader, after.size(), Duration.ofSeconds(60), x -> true);
            assertThat(scoredAfter).hasSize(after.size());
            double[] v2Scores = rawScores(scoredAfter, after, 2L);
            Path v2Dir = store.memberDir(2, 0);
            assertThat(v2Scores).as("what version 2 gives offline").containsExactly(offline(v2Dir, after), within(1e-4));
            double change = 0;
            for (int i = 0; i < v1Scores.length; i++) {
                change += Math.abs(v2Scores[i] - v1Scores[i]) / v1Scores.length;
            }
            assertThat(change).as("mean |score change| of the same responses after the swap").isGreaterThan(1e-2);
            // And the change follows the feedback: the labelled (chosen) response of each probe gains on the other.
            double marginV1 = 0;
            double marginV2 = 0;
            for (int i = 0; i < PROBES; i++) {
                marginV1 += v1Scores[2 * i] - v1Scores[2 * i + 1];
                marginV2 += v2Scores[2 * i] - v2Scores[2 * i + 1];
            }
            assertThat(marginV2).as("summed r(chosen) - r(rejected) over the probes, v2 vs v1 %.4f", marginV1)
                    .isGreaterThan(marginV1);
            System.out.printf("OnlineRewardModelIT: %d pairs -> version 2; probe scores v1 %s, v2 %s; mean |change| "
                    + "%.4f; probe margins v1 %.4f, v2 %.4f; %.1f s%n", PAIRS, Arrays.toString(v1Scores),
                    Arrays.toString(v2Scores), change, marginV1, marginV2, (System.nanoTime() - begin) / 1e9);
        } finally {
            trainer.stop();
            trainerThread.join(30_000);
            trainer.close();
        }
    }

    /** Two generations per probe prompt (the record's chosen and rejected texts), tokens as the trainer encodes. */
    private static List<Generation> probes(List<PreferenceRecord> records, PairEncoder encoder, String tag) {
        List<Generation> out = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = 0; i < PROBES; i++) {
            PreferenceRecord r = records.get(i);
            List<String> responses = List.of(r.chosen(), r.rejected());
            for (int j = 0; j < 2; j++) {
                List<Integer> responseTokens = boxed(encoder.response(responses.get(j)));
                out.add(Generation.newBuilder()
                        .setGenerationId("gen-" + tag + "-" + i + "-" + j)
                        .setPromptId("prompt-" + tag + "-" + i)
                        .setGroupSize(2)
                        .setGroupIndex(j)
                        .setPromptTokens(boxed(encoder.prompt(r.prompt())))
                        .setResponseTokens(responseTokens)
                        .setPromptText(r.prompt())
                        .setResponseText(responses.get(j))
                        .setBehaviourLogprobs(responseTokens.stream().map(t -> -1.0f).toList())
                        .setPolicyName("policy")
                        .setPolicyVersion(1L)
                        .setWorkerId("worker-it")
                        .setFinishReason(FinishReason.EOS)
                        .setSampling(SamplingParams.newBuilder().setTemperature(1f).setMaxNewTokens(32).build())
                        .setStartedAt(now)
                        .setCreatedAt(now)
                        .build());
            }
        }
        return out;
    }

    /** The raw scores of rm-0, in the order of {@code expected}, checking ids and the model version. */
    private static double[] rawScores(List<ScoredGeneration> scored, List<Generation> expected, long version) {
        double[] out = new double[expected.size()];
        for (int i = 0; i < expected.size(); i++) {
            ScoredGeneration s = scored.get(i);
            assertThat(s.getGeneration().getGenerationId()).isEqualTo(expected.get(i).getGenerationId());
            SourceScore score = s.getScores().get(0);
            assertThat(score.getModel().getName()).isEqualTo("rm-0");
            assertThat(score.getModel().getVersion()).as("version scoring %s", expected.get(i).getGenerationId())
                    .isEqualTo(version);
            out[i] = score.getRaw();
        }
        return out;
    }

    /** The checkpoint's scores of the generations, computed outside the stream. */
    private static double[] offline(Path checkpoint, List<Generation> generations) {
        try (RewardSource source = RewardSources.create(RewardSpec.parse("rm:" + checkpoint.toAbsolutePath()))) {
            return source.score(generations.stream().map(ScoringInput::of).toList());
        }
    }

    private static boolean fromTrainer(ConsumerRecord<?, ?> r) {
        Header h = r.headers().lastHeader(OnlineRmTrainer.ORIGIN_HEADER);
        return h != null && OnlineRmTrainer.ORIGIN.equals(new String(h.value(), StandardCharsets.UTF_8));
    }

    private static List<Integer> boxed(int[] ids) {
        List<Integer> out = new ArrayList<>(ids.length);
        for (int id : ids) {
            out.add(id);
        }
        return out;
    }

    private <V> void produce(TopicSpec<String, V> spec, List<V> values, Function<V, String> key) {
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        try (KafkaProducer<String, V> producer = new KafkaProducer<>(props, spec.keySerializer(),
                spec.valueSerializer())) {
            for (V v : values) {
                producer.send(new ProducerRecord<>(spec.name(), key.apply(v), v));
            }
            producer.flush();
        }
    }

    private static <V> KafkaConsumer<String, V> reader(TopicSpec<String, V> spec) {
        Map<String, Object> props = Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers(),
                ConsumerConfig.GROUP_ID_CONFIG, "it-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        KafkaConsumer<String, V> c = new KafkaConsumer<>(props, spec.keyDeserializer(), spec.valueDeserializer());
        c.subscribe(List.of(spec.name()));
        return c;
    }

    private static <V> List<V> poll(KafkaConsumer<String, V> c, int n, Duration timeout,
                                    Predicate<ConsumerRecord<String, V>> keep) {
        return pollRecords(c, n, timeout, keep).stream().map(ConsumerRecord::value).toList();
    }

    /** Polls until {@code n} kept records arrived or the timeout passed. */
    private static <V> List<ConsumerRecord<String, V>> pollRecords(KafkaConsumer<String, V> c, int n, Duration timeout,
                                                                  Predicate<ConsumerRecord<String, V>> keep) {
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        while (out.size() < n && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, V> r : c.poll(Duration.ofMillis(200))) {
                if (keep.test(r)) {
                    out.add(r);
                }
            }
        }
        return out;
    }
}
