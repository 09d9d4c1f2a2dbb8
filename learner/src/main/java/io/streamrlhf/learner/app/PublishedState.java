package io.streamrlhf.learner.app;

import io.streamrlhf.learner.checkpoint.LearnerCheckpoint;
import io.streamrlhf.learner.checkpoint.LearnerCheckpointStore;
import io.streamrlhf.models.checkpoint.CheckpointException;
import io.streamrlhf.models.checkpoint.CheckpointStore;
import io.streamrlhf.schemas.avro.PolicyVersion;
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
 * The learner state a policy version carries ({@code learner.state.topic.enabled}, docs/learner.md "Without a shared
 * directory"), installed in a new leader's checkpoint directory when it is newer than what that directory holds: how
 * a standby on another machine resumes exactly where the fenced leader stopped, with nothing shared but Kafka.
 */
final class PublishedState {

    private static final Logger LOG = LoggerFactory.getLogger(PublishedState.class);
    /** How long reading a published learner state may take (chunks of several MiB each). */
    private static final Duration READ_TIMEOUT = Duration.ofMinutes(5);

    private final Topics topics;
    private final Map<String, Object> clientProperties;
    private final LearnerCheckpointStore store;
    private final String policyName;

    PublishedState(Topics topics, Map<String, Object> clientProperties, LearnerCheckpointStore store,
                   String policyName) {
        this.topics = topics;
        this.clientProperties = clientProperties;
        this.store = store;
        this.policyName = policyName;
    }

    /**
     * A restore from the learner state published on Kafka.
     *
     * @param version    the version restored
     * @param bytes      the state's size
     * @param seconds    reading, checking and installing it
     * @param checkpoint the checkpoint installed
     */
    record Restore(long version, long bytes, double seconds, LearnerCheckpoint checkpoint) {
    }

    /**
     * The learner state published with the newest version, installed in the checkpoint directory, when that version is
     * newer than {@code localVersion}: what the fenced leader committed, read from its indexed chunks and checked
     * against the record's sha256, then verified file by file as any checkpoint. Empty when the local checkpoint is as
     * new, or nothing was published, or the newest version carries no state (its writer kept it in a shared directory).
     *
     * @throws IllegalStateException when the newer published state cannot be read or fails its check: resuming from
     *                               an older one would train a second lineage behind the published versions
     */
    Optional<Restore> restoreNewer(PolicyPublisher publisher, long localVersion) {
        Optional<PolicyVersion> record = publisher.newest();
        if (record.isEmpty() || record.get().getVersion() <= localVersion) {
            return Optional.empty();
        }
        PolicyVersion r = record.get();
        long v = r.getVersion();
        ChunkIndex index = ChunkIndex.ofNullable(r.getStateChunksPartition(), r.getStateChunksFirstOffset(),
                r.getStateChunksLastOffset());
        if (index == null || r.getStateSha256() == null) {
            LOG.warn("policy {} version {} was published without its learner state (its writer ran with {}=false); "
                            + "resuming from this learner's own checkpoint directory ({})", policyName, v,
                    LearnerConfig.STATE_TOPIC, localVersion < 0 ? "empty" : "version " + localVersion);
            return Optional.empty();
        }
        long start = System.nanoTime();
        String topic = topics.checkpoints().name();
        byte[] bytes;
        try {
            bytes = new CheckpointChunkReader(clientProperties, READ_TIMEOUT).read(topic, publisher.statePrefix(), v,
                    index);
        } catch (ChunkReadException e) {
            throw new IllegalStateException("cannot read the learner state of " + policyName + " version " + v
                    + " from " + topic + " (" + e.getMessage() + "); this learner's own checkpoint is "
                    + (localVersion < 0 ? "absent" : "version " + localVersion) + ", older than the published one, so "
                    + "it stops rather than train behind the published versions", e);
        }
        String sha256 = CheckpointStore.sha256(bytes);
        if (!sha256.equals(r.getStateSha256())) {
            throw new IllegalStateException("the learner state of " + policyName + " version " + v + " read from "
                    + topic + " partition " + index.partition() + " offsets " + index.firstOffset() + ".."
                    + index.lastOffset() + " fails its sha256 check (record " + r.getStateSha256() + ", chunks "
                    + sha256 + "); this learner stops rather than train behind the published versions");
        }
        long read = System.nanoTime();
        LearnerCheckpoint c;
        try {
            c = store.install(v, bytes);
        } catch (CheckpointException e) {
            throw new IllegalStateException("the learner state of " + policyName + " version " + v + " published on "
                    + topic + " does not verify: " + e.getMessage(), e);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        LOG.info("restored learner state version {} from {} partition {} offsets {}..{} ({} bytes, {} ledger entries; "
                        + "read and checked in {} ms, installed and verified in {} ms) over this learner's own {}", v,
                topic, index.partition(), index.firstOffset(), index.lastOffset(), bytes.length, c.ledgerEntries(),
                (read - start) / 1_000_000, (System.nanoTime() - read) / 1_000_000,
                localVersion < 0 ? "empty checkpoint directory" : "version " + localVersion);
        return Optional.of(new Restore(v, bytes.length, seconds, c));
    }
}
