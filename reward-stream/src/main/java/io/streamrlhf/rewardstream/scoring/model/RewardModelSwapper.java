package io.streamrlhf.rewardstream.scoring.model;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.streamrlhf.models.checkpoint.Checkpoint;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.schemas.avro.RewardModelVersion;
import io.streamrlhf.schemas.chunks.CheckpointChunkReader;
import io.streamrlhf.schemas.chunks.CheckpointUris;
import io.streamrlhf.schemas.signing.VersionVerifier;
import java.util.List;
import java.util.HashSet;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies versions published on {@code rm.versions} to an ensemble's reward models: a version newer than the one
 * running, for a model of the ensemble, is fetched ({@code file:} directory or {@code kafka:} chunks), verified
 * (sha256 of the manifest, then every file) and loaded, then
 * swapped in between batches. Idempotent: older or equal versions, and versions that already failed, are ignored.
 * With verification keys configured, an unsigned or wrongly signed version is refused before anything is fetched, as
 * is a URI outside the checkpoints topic or the allowed roots; each failure is logged naming the version and the
 * reason and counted on {@code rlhf.rm.version.refused}, and the running version keeps scoring.
 */
public final class RewardModelSwapper {
    private static final Logger LOG = LoggerFactory.getLogger(RewardModelSwapper.class);

    /** What {@link #apply(RewardModelVersion)} did. */
    public enum Outcome {
        /** The model now runs the published version. */
        SWAPPED,
        /** The version is not newer than the running one. */
        ALREADY_CURRENT,
        /** No reward model of the ensemble has this name. */
        NOT_IN_ENSEMBLE,
        /** Verification or loading failed; the old version keeps running. */
        FAILED
    }

    private final RewardEnsemble ensemble;
    private final CheckpointChunkReader chunks;
    private final VersionVerifier verifier;
    private final CheckpointUris uris;
    private final MeterRegistry meters;
    private final Set<String> failed = new HashSet<>();

    /** A swapper that loads {@code file:} checkpoints only; a {@code kafka:} version fails, naming why. */
    public RewardModelSwapper(RewardEnsemble ensemble) {
        this(ensemble, null);
    }

    /**
     * A swapper that also fetches {@code kafka:} checkpoints from the checkpoints topic.
     *
     * @param chunks reads checkpoint chunks; null for {@code file:} only
     */
    public RewardModelSwapper(RewardEnsemble ensemble, CheckpointChunkReader chunks) {
        this(ensemble, chunks, VersionVerifier.OFF, new CheckpointUris(null, List.of()), new SimpleMeterRegistry());
    }

    /**
     * A swapper that checks signatures and URIs before fetching.
     *
     * @param chunks   reads checkpoint chunks; null for {@code file:} only
     * @param verifier the trusted signing keys ({@link VersionVerifier#OFF} for none)
     * @param uris     the allowed checkpoints topic and directories
     * @param meters   where {@code rlhf.rm.version.refused} goes
     */
    public RewardModelSwapper(RewardEnsemble ensemble, CheckpointChunkReader chunks, VersionVerifier verifier,
                              CheckpointUris uris, MeterRegistry meters) {
        this.ensemble = ensemble;
        this.chunks = chunks;
        this.verifier = verifier;
        this.uris = uris;
        this.meters = meters;
    }

    /** Applies one published version; see {@link Outcome}. */
    public synchronized Outcome apply(RewardModelVersion published) {
        RewardSource source = ensemble.source(published.getName());
        if (!(source instanceof ModelRewardSource model)) {
            return Outcome.NOT_IN_ENSEMBLE;
        }
        if (published.getVersion() <= model.version()) {
            return Outcome.ALREADY_CURRENT;
        }
        String key = published.getName() + "@" + published.getVersion();
        if (failed.contains(key)) {
            return Outcome.FAILED;
        }
        RewardModel next;
        try {
            Checkpoint checkpoint = RewardModelLoader.fetchVerified(published, chunks, verifier, uris);
            next = RewardModelLoader.build(checkpoint);
        } catch (RuntimeException e) {
            failed.add(key);
            refused(published.getName()).increment();
            LOG.error("reward model {} version {} from {} was not loaded; version {} keeps scoring: {}",
                    published.getName(), published.getVersion(), published.getCheckpointUri(), model.version(),
                    e.getMessage());
            return Outcome.FAILED;
        }
        long from = model.version();
        ensemble.exclusive(() -> model.swap(next, published.getVersion()));
        LOG.info("reward model {} swapped from version {} to {}", published.getName(), from, published.getVersion());
        return Outcome.SWAPPED;
    }

    /**
     * Applies, for each reward model of the ensemble, the version {@code published} holds under its name when it is
     * newer than the one running and has not failed: versions published while nothing applied them (before a task
     * started, say).
     *
     * @param published the newest published version of a model by name, or {@code null} when none is known
     */
    public void catchUp(Function<String, RewardModelVersion> published) {
        for (RewardSource source : ensemble.sources()) {
            if (source instanceof ModelRewardSource model) {
                RewardModelVersion newest = published.apply(model.name());
                if (newest != null && newest.getVersion() > model.version()
                        && !hasFailed(model.name(), newest.getVersion())) {
                    apply(newest);
                }
            }
        }
    }

    /** The refusal counter of reward model {@code name}. */
    private Counter refused(String name) {
        return Counter.builder("rlhf.rm.version.refused").tag("model", name)
                .description("Published reward-model versions refused: signature, URI, sha256 or loading")
                .register(meters);
    }

    /** How many versions of {@code name} were refused so far. */
    public long refusedCount(String name) {
        return (long) refused(name).count();
    }

    /** Whether a (name, version) failed verification or loading. */
    public synchronized boolean hasFailed(String name, long version) {
        return failed.contains(name + "@" + version);
    }
}
