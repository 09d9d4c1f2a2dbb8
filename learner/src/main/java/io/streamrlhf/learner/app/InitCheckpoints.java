package io.streamrlhf.learner.app;

import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.checkpoint.CheckpointCopy;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.schemas.avro.PolicyVersion;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.chunks.PublishedPolicyCheckpoint;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the learner's starting policy (and KL reference) comes from: {@code learner.init.checkpoint} names a local
 * directory, or a published version on Kafka as {@code kafka:<checkpoints topic>/<policy name>/<version>} — so a
 * learner on a machine that shares no disk with anyone needs only the bootstrap address and the registry.
 *
 * <p>A {@code kafka:} start is checked as workers check a version ({@link PublishedPolicyCheckpoint}): its
 * {@code policy.versions} record must exist, be signed by a trusted key when {@code versions.verify.keys} is set, and
 * its sha256 must match the manifest of the chunks read ({@link CheckpointCopy}). It must be a full version (a delta
 * needs its base, which a starting point does not have). The checkpoint is written once to {@code <checkpoint dir>.init/<name>-v<version>} and reused from there on restart,
 * after the same sha256 check.
 */
public final class InitCheckpoints {

    private static final Logger LOG = LoggerFactory.getLogger(InitCheckpoints.class);

    private InitCheckpoints() {
    }

    /**
     * The local directory the learner starts from: {@code value} itself when it is a path, else the published version
     * it names, fetched from Kafka into a directory beside {@code checkpointDir}.
     *
     * @throws ConfigException naming the URI and what was wrong: no such record, an untrusted or delta version, a
     *                         sha256 mismatch, or chunks that cannot be read within {@code timeout}
     */
    public static Path resolve(String value, Path checkpointDir, Topics topics, Map<String, Object> clientProperties,
                               Duration timeout) {
        return PublishedPolicyCheckpoint.resolve(LearnerConfig.INIT_CHECKPOINT, value, cacheDir(checkpointDir),
                topics, clientProperties, timeout, PublishedPolicyCheckpoint.LocalCopies.of(CheckpointCopy::holds,
                        CheckpointCopy::write));
    }

    /**
     * Publishes the policy checkpoint in {@code dir} as version 0 of policy {@code name}: its chunks on the checkpoints
     * topic and its record on {@code policy.versions}, in one transaction, signed when {@code versions.sign.key} is
     * set, so learners ({@code learner.init.checkpoint}) and scorers ({@code scoring.reference.checkpoint}) on
     * machines that share no disk can name it by the returned URI. Use a name no learner publishes under: a learner's
     * own versions retire old chunks, and a starting point must stay. The publisher's transactional id is
     * {@code <topic prefix>rlhf-learner-<name>}, so the learner's user may publish it on a secure cluster. Idempotent: when a version of {@code name} was
     * published already nothing is sent (a warning says so when its sha256 is not this checkpoint's).
     *
     * @return {@code kafka:<checkpoints topic>/<name>/0}
     * @throws io.streamrlhf.models.checkpoint.CheckpointException when {@code dir} is not a checkpoint that verifies
     */
    public static String publish(Path dir, String name, Topics topics, Map<String, Object> clientProperties) {
        Checkpoint checkpoint = CheckpointStore.load(dir);
        String sha256 = CheckpointStore.sha256(CheckpointStore.manifestOf(CheckpointStore.toBytes(checkpoint)));
        // Under the learners' transactional-id prefix, which the learner's user may use on a secure cluster.
        try (PolicyPublisher publisher = new PolicyPublisher(topics, clientProperties, name,
                topics.prefix() + "rlhf-learner-" + name)) {
            String uri = publisher.chunkUri(0);
            Optional<PolicyVersion> newest = publisher.newest();
            if (newest.isPresent()) {
                if (newest.get().getVersion() != 0 || !sha256.equalsIgnoreCase(newest.get().getSha256())) {
                    LOG.warn("policy {} was published before (version {}, sha256 {}); {} (sha256 {}) is not published "
                                    + "again", name, newest.get().getVersion(), newest.get().getSha256(), dir, sha256);
                }
                return uri;
            }
            PolicyVersion record = PolicyVersion.newBuilder().setName(name).setVersion(0).setCheckpointUri(uri)
                    .setSha256(sha256).setSizeBytes(checkpoint.weights().length).setParentVersion(null).setStep(null)
                    .setMetrics(Map.of()).setCreatedAt(Instant.now()).build();
            publisher.publish(record, CheckpointStore.toBytes(checkpoint));
            LOG.info("published {} as policy {} version 0 ({})", dir, name, uri);
            return uri;
        }
    }

    /** Where fetched starting policies are kept: beside the checkpoint directory, so its version scan never sees them. */
    static Path cacheDir(Path checkpointDir) {
        Path absolute = checkpointDir.toAbsolutePath();
        return absolute.resolveSibling(absolute.getFileName() + ".init");
    }
}
