package io.streamrlhf.learner.checkpoint;

import io.streamrlhf.models.checkpoint.Checkpoint;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything a learner needs to resume exactly where a committed update left off.
 *
 * @param version        the policy version these weights are (published as {@code PolicyVersion})
 * @param parentVersion  the version they were trained from
 * @param updates        PPO updates done so far
 * @param optimizerSteps AdamW steps done so far
 * @param scoreMoments   reward scaler state {count, mean, M2}
 * @param policy         policy and value-head weights, AdamW moments as its optimiser state
 * @param offsets        per {@code topic-partition}, the next offset to read (every record before it
 *                       is in the ledger, or was skipped as already in it)
 * @param ledger         the segments whose concatenation is every generation consumed by committed updates, oldest
 *                       first ({@link LearnerCheckpointStore#readLedger} reads them; {@link
 *                       LearnerCheckpointStore#appendLedger} makes the chain of the next checkpoint)
 * @param metrics        the last update's metrics (published with the version)
 * @param critic         a separate critic's weights, its AdamW moments as their optimiser state
 *                       ({@code ppo.critic=separate}), or {@code null} when the policy's value head is the critic
 */
public record LearnerCheckpoint(long version, long parentVersion, long updates, long optimizerSteps,
                                double[] scoreMoments, Checkpoint policy, Map<String, Long> offsets,
                                List<LedgerSegment> ledger, Map<String, Double> metrics, Checkpoint critic) {

    /** Copies the collections. */
    public LearnerCheckpoint {
        Objects.requireNonNull(policy, "policy");
        offsets = Map.copyOf(offsets);
        ledger = List.copyOf(ledger);
        metrics = Map.copyOf(metrics);
    }

    /** A checkpoint without a separate critic. */
    public LearnerCheckpoint(long version, long parentVersion, long updates, long optimizerSteps,
                             double[] scoreMoments, Checkpoint policy, Map<String, Long> offsets,
                             List<LedgerSegment> ledger, Map<String, Double> metrics) {
        this(version, parentVersion, updates, optimizerSteps, scoreMoments, policy, offsets, ledger, metrics, null);
    }

    /** Entries in the ledger (over all its segments). */
    public long ledgerEntries() {
        return ledger.stream().mapToLong(LedgerSegment::entries).sum();
    }
}
