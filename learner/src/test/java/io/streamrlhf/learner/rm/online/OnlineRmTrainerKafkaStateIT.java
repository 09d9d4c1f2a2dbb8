package io.streamrlhf.learner.rm.online;

import static org.assertj.core.api.Assertions.assertThat;

import io.streamrlhf.learner.rm.RmProgress;
import io.streamrlhf.models.engine.ModelRuntime;
import io.streamrlhf.schemas.avro.PreferencePair;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.signing.SigningKeys;
import io.streamrlhf.schemas.signing.VersionSigningConfig;
import io.streamrlhf.schemas.signing.VersionVerifier;
import io.streamrlhf.schemas.topics.CatalogTopics;
import io.streamrlhf.schemas.topics.TopicSpec;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An online RM trainer started on a fresh machine (an empty checkpoint directory) with {@code rm.state.topic.enabled}
 * resumes from the state the last trainer published with its newest version on Kafka: at that version, its count and
 * its {@code preferences} offsets, so its next round trains only the pairs published since (none twice, none skipped)
 * and publishes the next version on top of the last one. The states are signed; an unsigned state far ahead, written
 * by someone else who can write {@code rm.versions}, is passed over.
 */
class OnlineRmTrainerKafkaStateIT {

    private static final int M = 2;
    private static final int ROUND_PAIRS = 32;

    @TempDir
    Path dir;

    @Test
    void aTrainerOnAFreshMachineResumesFromThePublishedStateAtItsOffsets() throws Exception {
        ModelRuntime.init(1);
        CatalogTopics catalog = OnlineRmTrainerIT.catalog("rmstate", 2);
        Topics topics = catalog.topics();
        SigningKeys.writePair(SigningKeys.generate(), dir.resolve("keys"));
        Map<String, Object> machineA = settings(catalog, dir.resolve("machine-a"));
        List<PreferencePair> pairs = OnlineRmTrainerIT.pairs(2 * ROUND_PAIRS);

        OnlineRmTrainerIT.produce(topics, machineA, pairs.subList(0, ROUND_PAIRS));
        try (OnlineRmTrainer a = new OnlineRmTrainer(machineA, topics, RmProgress.NONE)) {
            OnlineRmTrainerIT.runWithin(a, 60);
            assertThat(a.version()).isEqualTo(1);
            assertThat(a.restoredFromTopic()).as("nothing was published before").isEqualTo(-1);
        }
        Map<String, RewardModelVersion> v1 = OnlineRmTrainerIT.newestVersions(topics, machineA);
        assertThat(v1.get("rm-1").getStateSha256()).as("the last member's record carries the state").isNotNull();
        assertThat(v1.get("rm-0").getStateSha256()).isNull();
        assertThat(verifier(machineA).refusal(v1.get("rm-1"))).as("signed over its state").isEmpty();

        // Someone who can write rm.versions, without the trainer's key, publishes a state far ahead.
        forgeStateAhead(topics, machineA, v1.get("rm-1"));

        // Machine A is gone; machine B has nothing on disk, and the next round of pairs arrives.
        OnlineRmTrainerIT.produce(topics, machineA, pairs.subList(ROUND_PAIRS, 2 * ROUND_PAIRS));
        Path fresh = dir.resolve("machine-b");
        Map<String, Object> machineB = settings(catalog, fresh);
        try (OnlineRmTrainer b = new OnlineRmTrainer(machineB, topics, RmProgress.NONE)) {
            OnlineRmTrainerIT.runWithin(b, 60);
            assertThat(b.restoredFromTopic()).as("resumed from the newest signed state, not the forgery")
                    .isEqualTo(1);
            assertThat(b.version()).isEqualTo(2);
            assertThat(b.rounds()).isEqualTo(1);
            assertThat(b.pairsSeen()).as("each pair counted once across the two machines").isEqualTo(2L * ROUND_PAIRS);
        }
        Map<String, RewardModelVersion> v2 = newestSigned(topics, machineA);
        for (String member : List.of("rm-0", "rm-1")) {
            assertThat(v2.get(member).getVersion()).isEqualTo(2);
            assertThat(v2.get(member).getParentVersion()).as("%s trained on top of version 1", member).isEqualTo(1L);
            assertThat(v2.get(member).getMetrics().get("data/new_pairs"))
                    .as("only the pairs after version 1's offsets, each once").isEqualTo(ROUND_PAIRS);
        }
        assertThat(v2.get("rm-0").getCheckpointUri()).as("the members travel on Kafka too").startsWith("kafka:");
        RmCheckpoint installed = new RmCheckpointStore(fresh.resolve("rm")).load(1);
        RmCheckpoint original = new RmCheckpointStore(dir.resolve("machine-a").resolve("rm")).load(1);
        assertThat(installed.offsets()).as("the state carries machine A's offsets").isEqualTo(original.offsets());
        assertThat(installed.members().get(1).weights()).isEqualTo(original.members().get(1).weights());
        RmCheckpoint newest = new RmCheckpointStore(fresh.resolve("rm")).loadNewest().orElseThrow();
        assertThat(newest.version()).isEqualTo(2);
        assertThat(newest.pairsSeen()).isEqualTo(2L * ROUND_PAIRS);
        assertThat(new RmCheckpointStore(dir.resolve("machine-a").resolve("rm")).versions())
                .as("machine A never saw version 2").containsExactly(1L);
    }

    private Map<String, Object> settings(CatalogTopics catalog, Path machine) {
        Map<String, Object> settings = OnlineRmTrainerIT.tinyTrainer(catalog, machine, M, ROUND_PAIRS, 16);
        settings.put(OnlineRmConfig.MAX_ROUNDS, 1L);
        settings.put(OnlineRmConfig.STATE_TOPIC, true);
        settings.put(OnlineRmConfig.CHECKPOINT_TOPIC, true);
        settings.put(VersionSigningConfig.SIGN_KEY, dir.resolve("keys").resolve(SigningKeys.PRIVATE_FILE).toString());
        return settings;
    }

    private VersionVerifier verifier(Map<String, Object> settings) {
        Map<String, Object> readers = new HashMap<>(settings);
        readers.put(VersionSigningConfig.VERIFY_KEYS, dir.resolve("keys").resolve(SigningKeys.PUBLIC_FILE).toString());
        return new VersionSigningConfig(readers).verifier();
    }

    /** An unsigned record of version 99 whose state index points at version 1's chunks. */
    private static void forgeStateAhead(Topics topics, Map<String, Object> settings, RewardModelVersion signed)
            throws Exception {
        RewardModelVersion forged = RewardModelVersion.newBuilder(signed).setVersion(99).setParentVersion(98L)
                .setSignature(null).setSigningKeyId(null).setCreatedAt(Instant.now()).build();
        TopicSpec<String, RewardModelVersion> spec = topics.rmVersions();
        try (KafkaProducer<String, RewardModelVersion> producer = new KafkaProducer<>(
                Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.get("bootstrap.servers")),
                spec.keySerializer(), spec.valueSerializer())) {
            producer.send(new ProducerRecord<>(spec.name(), forged.getName(), forged)).get();
        }
    }

    /** The newest record of each name that verifies against the trainer's key. */
    private Map<String, RewardModelVersion> newestSigned(Topics topics, Map<String, Object> settings) {
        VersionVerifier verifier = verifier(settings);
        Map<String, RewardModelVersion> out = new HashMap<>();
        for (ConsumerRecord<String, RewardModelVersion> r : OnlineRmTrainerIT.read(topics.rmVersions(), settings)) {
            if (r.value() != null && verifier.refusal(r.value()).isEmpty()) {
                out.merge(r.key(), r.value(), (a, b) -> a.getVersion() >= b.getVersion() ? a : b);
            }
        }
        return out;
    }
}
