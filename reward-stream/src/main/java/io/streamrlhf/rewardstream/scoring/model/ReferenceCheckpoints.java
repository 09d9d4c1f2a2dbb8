package io.streamrlhf.rewardstream.scoring.model;

import io.streamrlhf.models.checkpoint.CheckpointCopy;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.schemas.chunks.ChunkUri;
import io.streamrlhf.schemas.chunks.PublishedPolicyCheckpoint;
import io.streamrlhf.schemas.topics.Topics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the reward stream's KL reference comes from: {@code scoring.reference.checkpoint} names a local directory
 * (a checkpoint or a Hugging Face folder), or a published policy version on Kafka as
 * {@code kafka:<checkpoints topic>/<policy name>/<version>}, so a scorer on a machine that shares no disk with the
 * learner needs only the bootstrap address and the registry. The learner's {@code learner.init.checkpoint} takes the
 * same URI; naming the same version gives both the same weights id, so the learner uses the scored log-probs.
 *
 * <p>A {@code kafka:} reference is checked as the learner checks its start ({@link PublishedPolicyCheckpoint}: the
 * record exists, points at these chunks, is trusted when {@code versions.verify.keys} is set, is a full version) and
 * its chunks against the published sha256 ({@link CheckpointCopy}); it is written once to
 * {@code <reward.stream.state.dir>/reference/<name>-v<version>} and reused from there on restart after the same check.
 */
public final class ReferenceCheckpoints {

    private static final Logger LOG = LoggerFactory.getLogger(ReferenceCheckpoints.class);

    private ReferenceCheckpoints() {
    }

    /**
     * The local directory the reference loads from: {@code value} itself when it is a path, else the published
     * version it names, fetched into {@code <stateDir>/reference}.
     *
     * @param setting the key {@code value} came from (named in every refusal)
     * @throws ConfigException naming the key and URI: no such record, an untrusted or delta version, a sha256
     *                         mismatch, or chunks that cannot be read within {@code timeout}
     */
    public static Path resolve(String setting, String value, Path stateDir, Topics topics,
                               Map<String, Object> clientProperties, Duration timeout) {
        return PublishedPolicyCheckpoint.resolve(setting, value, stateDir.resolve("reference"), topics,
                clientProperties, timeout, PublishedPolicyCheckpoint.LocalCopies.of(CheckpointCopy::holds,
                        CheckpointCopy::write));
    }
}
