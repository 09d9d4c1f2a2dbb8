package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.streamrlhf.embedded.testing.SharedCluster;
import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.models.reward.TransformerRewardModel;
import io.streamrlhf.models.world.PreferenceRecord;
import io.streamrlhf.models.world.PreferenceSetGenerator;
import io.streamrlhf.models.world.ResponseSource;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.ops.PrometheusText;
import io.streamrlhf.ops.ServiceMeters;
import io.streamrlhf.schemas.avro.ConversationTurn;
import io.streamrlhf.schemas.avro.FeedbackSource;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.avro.Role;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The online trainer against a real broker and registry: preferences arrive on the topic, a round
 * trains the ensemble and publishes one {@code RewardModelVersion} per member whose checkpoint verifies
 * against the published sha256 (the reward stream's check) and loads; later preferences give a new
 * version whose scores of the same records differ (what the reward stream's hot swap then serves);
 * strengths are written back; a restarted trainer resumes from its checkpoint's offsets and trains
 * only on what is new.
 */
class OnlineRmTrainerIT {

    private static final int M = 2;
    private static final int ROUND_PAIRS = 48;

    @TempDir
    Path dir;

    @Test
    void preferencesBecomePublishedVersionsThatChangeScores() throws Exception {
        ModelRuntime.init(1);
        CatalogTopics catalog = catalog("rm", 2);
        Map<String, Object> settings = tinyTrainer(catalog, dir, M, ROUND_PAIRS, 16);
        settings.put(OnlineRmConfig.METHOD, "flip+margin");
        Topics topics = catalog.topics();
        List<PreferencePair> pairs = pairs(3 * ROUND_PAIRS);
        List<EncodedPair> probe = pairs.subList(0, 8).stream()
                .map(PairEncoder.of(SyntheticWorld.standard().vocabulary())::encode).toList();

        // Round 1: the first pairs give version 1 of every member.
        produce(topics, settings, pairs.subList(0, ROUND_PAIRS));
        settings.put(OnlineRmConfig.MAX_ROUNDS, 1L);
        try (OnlineRmTrainer trainer = new OnlineRmTrainer(settings, topics, RmProgress.NONE)) {
            runWithin(trainer, 240);
            assertThat(trainer.version()).isEqualTo(1);
        }
        Map<String, RewardModelVersion> v1 = newestVersions(topics, settings);
        assertThat(v1).containsOnlyKeys("rm-0", "rm-1");
        double[] scoresV1 = verifyAndScore(v1.get("rm-0"), probe);
        assertThat(v1.get("rm-0").getVersion()).isEqualTo(1);
        assertThat(v1.get("rm-0").getParentVersion()).isNull();
        assertThat(v1.get("rm-0").getMetrics()).containsKeys("eval/pairwise_accuracy", "losses/preference",
                "strength/share_negative");
        assertThat(v1.get("rm-0").getMetrics().get("data/new_pairs")).isEqualTo(ROUND_PAIRS);

        // Round 2, in a restarted trainer: it resumes at version 1 and trains on the new pairs only.
        produce(topics, settings, pairs.subList(ROUND_PAIRS, 2 * ROUND_PAIRS));
        try (ServiceMeters service = ServiceMeters.create("train-rm");
             OnlineRmTrainer trainer = new OnlineRmTrainer(settings, topics, RmProgress.NONE)) {
            trainer.bindTo(service.component("train-rm"));
            runWithin(trainer, 240);
            assertThat(trainer.version()).isEqualTo(2);
            // What 'train-rm --online --metrics-port' serves: a strict Prometheus scrape with the trainer's series.
            PrometheusText.Scrape scrape = PrometheusText.parse(service.scrape());
            Map<String, String> component = Map.of(ServiceMeters.COMPONENT, "train-rm");
            assertThat(scrape.sum("rlhf_rm_version", component)).isEqualTo(2.0);
            assertThat(scrape.sum("rlhf_rm_rounds_total", component)).isGreaterThanOrEqualTo(1.0);
            assertThat(scrape.sum("rlhf_rm_pairs_total", component)).isGreaterThanOrEqualTo(ROUND_PAIRS);
        }
        Map<String, RewardModelVersion> v2 = newestVersions(topics, settings);
        assertThat(v2.get("rm-0").getVersion()).isEqualTo(2);
        assertThat(v2.get("rm-1").getParentVersion()).isEqualTo(1L);
        assertThat(v2.get("rm-0").getMetrics().get("data/new_pairs")).as("only the pairs after the checkpoint's offsets")
                .isEqualTo(ROUND_PAIRS);
        double[] scoresV2 = verifyAndScore(v2.get("rm-0"), probe);
        double change = 0;
        for (int i = 0; i < probe.size(); i++) {
            change += Math.abs(scoresV2[i] - scoresV1[i]);
        }
        assertThat(change / probe.size()).as("version 2 scores the same records differently").isGreaterThan(1e-3);

        // The checkpoint holds the offsets it trained up to: the end of every partition of preferences so far.
        RmCheckpoint newest = new RmCheckpointStore(dir.resolve("rm")).loadNewest().orElseThrow();
        assertThat(newest.version()).isEqualTo(2);
        assertThat(newest.offsets().values().stream().mapToLong(Long::longValue).sum())
                .as("offsets count the pairs and the written-back records before them")
                .isGreaterThanOrEqualTo(2L * ROUND_PAIRS);

        // Strengths were written back, marked as ours, with the ensemble that measured them.
        List<ConsumerRecord<String, PreferencePair>> all = readAll(topics, settings);
        List<PreferencePair> measured = all.stream().filter(r -> {
            Header h = r.headers().lastHeader(OnlineRmTrainer.ORIGIN_HEADER);
            return h != null && OnlineRmTrainer.ORIGIN.equals(new String(h.value(), StandardCharsets.UTF_8));
        }).map(ConsumerRecord::value).toList();
        assertThat(measured).hasSize(2 * ROUND_PAIRS);
        assertThat(measured).allSatisfy(p -> {
            assertThat(p.getStrength()).isNotNull();
            assertThat(p.getStrength().getEnsembleSize()).isEqualTo(M);
            assertThat(p.getStrength().getStd()).isGreaterThanOrEqualTo(0);
        });
        assertThat(measured.get(measured.size() - 1).getStrength().getModels()).extracting(m -> m.getVersion())
                .containsOnly(2L);
    }

    /** The topic catalog under a fresh prefix starting with {@code name}, on the shared cluster. */
    static CatalogTopics catalog(String name, int partitions) {
        String prefix = name + UUID.randomUUID().toString().substring(0, 8) + ".";
        return CatalogTopics.on(SharedCluster.get().bootstrapServers(), SharedCluster.get().registryUrl())
                .prefix(prefix).partitions(partitions).create();
    }

    /** The catalog's settings for a small, fast online trainer: one epoch of a one-layer d16 transformer a round. */
    static Map<String, Object> tinyTrainer(CatalogTopics catalog, Path dir, int ensemble, int roundPairs,
                                           int batchSize) {
        Map<String, Object> settings = catalog.settings();
        settings.put(OnlineRmConfig.ENSEMBLE_SIZE, ensemble);
        settings.put(OnlineRmConfig.CHECKPOINT_DIR, dir.resolve("rm").toString());
        settings.put(OnlineRmConfig.TRAIN_EVERY_PAIRS, roundPairs);
        settings.put(OnlineRmConfig.TRAIN_MAX_WAIT_MS, 600_000L);
        settings.put(OnlineRmConfig.EPOCHS, 1);
        settings.put(OnlineRmConfig.BATCH_SIZE, batchSize);
        settings.put(OnlineRmConfig.D_MODEL, 16);
        settings.put(OnlineRmConfig.LAYERS, 1);
        settings.put(OnlineRmConfig.HEADS, 2);
        settings.put(OnlineRmConfig.THREADS, 1);
        return settings;
    }

    static void runWithin(OnlineRmTrainer trainer, int seconds) throws InterruptedException {
        Thread t = new Thread(trainer::run, "online-rm-trainer");
        t.start();
        t.join(TimeUnit.SECONDS.toMillis(seconds));
        if (t.isAlive()) {
            trainer.stop();
            t.join(30_000);
            throw new AssertionError("the trainer did not finish its round within " + seconds + " s");
        }
    }

    /** What the reward stream does before a swap: sha256 of the manifest, then load and score. */
    private static double[] verifyAndScore(RewardModelVersion v, List<EncodedPair> probe) throws Exception {
        Path member = Path.of(URI.create(v.getCheckpointUri()));
        assertThat(CheckpointStore.sha256(Files.readAllBytes(member.resolve(CheckpointStore.MANIFEST))))
                .isEqualTo(v.getSha256());
        Checkpoint checkpoint = CheckpointStore.load(member);
        try (TransformerRewardModel model = TransformerRewardModel.fromCheckpoint(checkpoint)) {
            List<int[]> prompts = new ArrayList<>();
            List<int[]> responses = new ArrayList<>();
            for (EncodedPair p : probe) {
                prompts.add(p.conversation());
                responses.add(p.chosen());
            }
            float[] s = model.score(prompts, responses).scores();
            double[] out = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                out[i] = s[i];
            }
            assertThat(out[0]).isNotCloseTo(out[1], within(1e-9));
            return out;
        }
    }

    static List<PreferencePair> pairs(int n) {
        SyntheticWorld world = SyntheticWorld.standard();
        PreferenceSetGenerator generator = new PreferenceSetGenerator(world.prompts(21),
                ResponseSource.grammar(world.corpus(), 22), world.gold(), new SimulatedRater(0.5, 0.2, 23), 64);
        List<PreferencePair> out = new ArrayList<>();
        int i = 0;
        for (PreferenceRecord r : generator.generate(n)) {
            out.add(PreferencePair.newBuilder()
                    .setPairId("pair-" + i)
                    .setPromptId("prompt-" + i++)
                    .setConversation(List.of(new ConversationTurn(Role.USER, r.prompt())))
                    .setChosen(r.chosen())
                    .setRejected(r.rejected())
                    .setLabelSource(FeedbackSource.SIMULATED)
                    .setCreatedAt(Instant.now())
                    .build());
        }
        return out;
    }

    static void produce(Topics topics, Map<String, Object> settings, List<PreferencePair> pairs) {
        TopicSpec<String, PreferencePair> spec = topics.preferences();
        Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"));
        try (KafkaProducer<String, PreferencePair> p = new KafkaProducer<>(props, spec.keySerializer(),
                spec.valueSerializer())) {
            for (PreferencePair pair : pairs) {
                p.send(new ProducerRecord<>(spec.name(), pair.getPromptId(), pair));
            }
            p.flush();
        }
    }

    static Map<String, RewardModelVersion> newestVersions(Topics topics, Map<String, Object> settings) {
        Map<String, RewardModelVersion> out = new HashMap<>();
        TopicSpec<String, RewardModelVersion> spec = topics.rmVersions();
        for (ConsumerRecord<String, RewardModelVersion> r : read(spec, settings)) {
            out.merge(r.key(), r.value(), (a, b) -> a.getVersion() >= b.getVersion() ? a : b);
        }
        return out;
    }

    private static List<ConsumerRecord<String, PreferencePair>> readAll(Topics topics, Map<String, Object> settings) {
        return read(topics.preferences(), settings);
    }

    static <V> List<ConsumerRecord<String, V>> read(TopicSpec<String, V> spec, Map<String, Object> settings) {
        Map<String, Object> props = Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers"),
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<ConsumerRecord<String, V>> out = new ArrayList<>();
        try (KafkaConsumer<String, V> c = new KafkaConsumer<>(props, spec.keyDeserializer(), spec.valueDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(spec.name()).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (partitions.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                c.poll(Duration.ofMillis(200)).forEach(out::add);
            }
        }
        return out;
    }
}
