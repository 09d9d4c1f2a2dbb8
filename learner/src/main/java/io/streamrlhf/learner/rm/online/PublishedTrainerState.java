package io.streamrlhf.learner.rm.online;

import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.chunks.ChunkIndex;
import io.streamrlhf.schemas.chunks.ChunkReadException;
import io.streamrlhf.schemas.topics.Topics;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The trainer state a reward-model version carries ({@code rm.state.topic.enabled}), installed in a trainer's
 * checkpoint directory when it is newer than what that directory holds: how a trainer on a fresh machine resumes at
 * the published offsets, with nothing shared but Kafka.
 */
final class PublishedTrainerState {

    private static final Logger LOG = LoggerFactory.getLogger(PublishedTrainerState.class);
    /** How long reading a published trainer state may take. */
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(2);

    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final RmCheckpointStore store;
    private final String ensembleName;

    PublishedTrainerState(Topics topics, Map<String, Object> clientProperties, RmCheckpointStore store,
                          String ensembleName) {
        this.topics = topics;
        this.clientProperties = clientProperties;
        this.store = store;
        this.ensembleName = ensembleName;
    }

    /**
     * The trainer state published with the newest version of this ensemble, installed in the checkpoint directory,
     * when that version is newer than {@code localVersion}: read from its indexed chunks, checked against the
     * record's sha256 (which its signature covers), then verified file by file as any checkpoint. Empty when the
     * local checkpoint is as new, or no state was published.
     *
     * @throws IllegalStateException when the newer published state cannot be read or fails its check: resuming from
     *                               an older one would train pairs a second time into versions already published
     */
    Optional<RmCheckpoint> restoreNewer(RmVersionPublisher publisher, long localVersion) {
        Optional<RewardModelVersion> record = publisher.newestState(ensembleName);
        if (record.isEmpty() || record.get().getVersion() <= localVersion) {
            return Optional.empty();
        }
        RewardModelVersion r = record.get();
        long v = r.getVersion();
        ChunkIndex index = ChunkIndex.ofNullable(r.getStateChunksPartition(), r.getStateChunksFirstOffset(),
                r.getStateChunksLastOffset());
        String topic = topics.checkpoints().name();
        String what = "the trainer state of reward models " + ensembleName + " version " + v;
        String local = localVersion < 0 ? "empty" : "at version " + localVersion;
        byte[] bytes;
        try {
            bytes = new CheckpointChunkReader(clientProperties, READ_TIMEOUT).read(topic,
                    RmVersionPublisher.statePrefix(ensembleName), v, index);
        } catch (ChunkReadException e) {
            throw new IllegalStateException("cannot read " + what + " from " + topic + " (" + e.getMessage()
                    + "); this trainer's checkpoint directory is " + local + ", older than the published state, so "
                    + "it stops rather than train pairs a second time", e);
        }
        String sha256 = CheckpointStore.sha256(bytes);
        if (!sha256.equalsIgnoreCase(r.getStateSha256())) {
            throw new IllegalStateException(what + " read from " + topic + where(index) + " fails its sha256 check "
                    + "(record " + r.getStateSha256() + ", chunks " + sha256 + "); this trainer stops rather than "
                    + "train pairs a second time");
        }
        RmCheckpoint c;
        try {
            c = store.install(v, bytes);
        } catch (CheckpointException e) {
            throw new IllegalStateException(what + " published on " + topic + " does not verify: " + e.getMessage(),
                    e);
        }
        LOG.info("restored {} from {}{} ({} bytes, preferences offsets {}) over this trainer's {} checkpoint "
                + "directory", what, topic, where(index), bytes.length, c.offsets(), local);
        return Optional.of(c);
    }

    private static String where(ChunkIndex index) {
        return index == null ? "" : " partition " + index.partition() + " offsets " + index.firstOffset() + ".."
                + index.lastOffset();
    }
}
