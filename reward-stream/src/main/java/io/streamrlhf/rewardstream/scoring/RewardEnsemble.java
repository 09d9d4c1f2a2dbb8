package io.streamrlhf.rewardstream.scoring;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Several reward sources combined into one reward per input (DESIGN section 6).
 *
 * <p>A batch is scored in four steps: every source scores the whole batch; each input keeps the sources that gave
 * it a finite score (or becomes unscorable, per the {@link SourceFailurePolicy}); each source's running statistics
 * absorb the batch's kept raw scores (Welford) and then normalise them (so the statistics already include the batch,
 * as PPO-max's running mean/std does) against the state's {@link NormalizationState#combined combined} statistics
 * (own merged with other partitions'); the normalised scores are aggregated.
 *
 * <pre>{@code
 * RewardEnsemble ensemble = RewardEnsemble.builder()
 *         .add(RewardSources.create(RewardSpec.parse("rule:length")))
 *         .add(RewardSources.create(RewardSpec.parse("rm:/ckpt/rm-0")))
 *         .aggregation(Aggregation.MEAN_MINUS_K_STD).k(1.0)
 *         .build();
 * List<ScoringOutcome> outcomes = ensemble.score(inputs, new NormalizationState());
 * }</pre>
 *
 * <p>Thread-safe: scoring holds a read lock; {@link #exclusive(Runnable)} (a hot swap) waits for batches in flight
 * and keeps new ones out, so a batch is scored by one model version throughout.
 */
public final class RewardEnsemble implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RewardEnsemble.class);

    private final List<RewardSource> sources;
    private final Aggregation aggregation;
    private final double k;
    private final double voteThreshold;
    private final NormalizationSettings normalization;
    private final SourceFailurePolicy failurePolicy;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);

    private RewardEnsemble(Builder b) {
        this.sources = List.copyOf(b.sources);
        this.aggregation = b.aggregation;
        this.k = b.k;
        this.voteThreshold = b.voteThreshold;
        this.normalization = b.normalization;
        this.failurePolicy = b.failurePolicy;
    }

    public static Builder builder() {
        return new Builder();
    }

    public List<RewardSource> sources() {
        return sources;
    }

    public Aggregation aggregation() {
        return aggregation;
    }

    public double k() {
        return k;
    }

    public NormalizationSettings normalization() {
        return normalization;
    }

    public SourceFailurePolicy failurePolicy() {
        return failurePolicy;
    }

    /** The source named {@code name}, or null. */
    public RewardSource source(String name) {
        for (RewardSource s : sources) {
            if (s.name().equals(name)) {
                return s;
            }
        }
        return null;
    }

    /** Runs {@code action} while no batch is being scored (used to swap a reward model between batches). */
    public void exclusive(Runnable action) {
        lock.writeLock().lock();
        try {
            action.run();
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Scores a batch with normalisation against {@code state}, which is updated in place (its version grows by one
     * when the batch changed any statistics).
     *
     * @return one outcome per input, in input order
     */
    public List<ScoringOutcome> score(List<ScoringInput> batch, NormalizationState state) {
        Objects.requireNonNull(state, "state");
        if (batch.isEmpty()) {
            return List.of();
        }
        lock.readLock().lock();
        try {
            return scoreLocked(batch, state);
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Raw scores only, no normalisation or aggregation: {@code [source][input]}, NaN where a source could not score
     * (the evaluator's pairwise and best-of-N accuracy need nothing more).
     *
     * @throws SourceUnavailableException when a source fails the whole batch
     */
    public double[][] scoreRaw(List<ScoringInput> batch) {
        lock.readLock().lock();
        try {
            double[][] raw = new double[sources.size()][];
            for (int s = 0; s < sources.size(); s++) {
                raw[s] = checkedScores(sources.get(s), batch);
            }
            return raw;
        } finally {
            lock.readLock().unlock();
        }
    }

    private List<ScoringOutcome> scoreLocked(List<ScoringInput> batch, NormalizationState state) {
        int n = batch.size();
        int m = sources.size();
        double[][] raw = new double[m][];
        RuntimeException[] sourceFailure = new RuntimeException[m];
        for (int s = 0; s < m; s++) {
            try {
                raw[s] = checkedScores(sources.get(s), batch);
            } catch (SourceUnavailableException e) {
                if (failurePolicy == SourceFailurePolicy.WAIT) {
                    throw e; // the batch fails whole, so its records wait in Kafka for the source
                }
                LOG.warn("reward source '{}' failed a batch of {}: {}", sources.get(s).name(), n, e.toString());
                sourceFailure[s] = e;
            } catch (RuntimeException e) {
                LOG.warn("reward source '{}' failed a batch of {}: {}", sources.get(s).name(), n, e.toString());
                sourceFailure[s] = e;
            }
        }
        // Which sources each input keeps, or why it is unscorable.
        boolean[][] used = new boolean[n][m];
        UnscorableException[] errors = new UnscorableException[n];
        for (int i = 0; i < n; i++) {
            List<String> problems = new ArrayList<>();
            Throwable cause = null;
            for (int s = 0; s < m; s++) {
                String name = sources.get(s).name();
                if (sourceFailure[s] != null) {
                    problems.add(sourceFailure[s].getMessage());
                    cause = cause == null ? sourceFailure[s] : cause;
                } else if (!Double.isFinite(raw[s][i])) {
                    problems.add("source '" + name + "' returned " + raw[s][i] + " for " + batch.get(i).id());
                } else {
                    used[i][s] = true;
                }
            }
            boolean anyUsed = false;
            for (boolean u : used[i]) {
                anyUsed |= u;
            }
            if (!problems.isEmpty() && (failurePolicy != SourceFailurePolicy.SKIP || !anyUsed)) {
                errors[i] = new UnscorableException("cannot score " + batch.get(i).id() + ": "
                        + String.join("; ", problems), cause);
            }
        }
        // Statistics absorb the batch's kept scores first, then normalise them.
        boolean changed = false;
        for (int s = 0; s < m; s++) {
            RewardSource source = sources.get(s);
            RunningStats stats = state.get(source.name());
            for (int i = 0; i < n; i++) {
                if (errors[i] == null && used[i][s]) {
                    stats = stats.add(raw[s][i]);
                    changed = true;
                }
            }
            state.put(source.name(), stats);
        }
        if (changed) {
            state.bumpVersion();
        }
        List<ScoringOutcome> outcomes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            if (errors[i] != null) {
                outcomes.add(new ScoringOutcome(batch.get(i), null, errors[i]));
                continue;
            }
            List<SourceResult> results = new ArrayList<>(m);
            for (int s = 0; s < m; s++) {
                if (used[i][s]) {
                    RewardSource source = sources.get(s);
                    double normalised = normalization.normalise(raw[s][i], state.combined(source.name()));
                    results.add(new SourceResult(source.name(), source.kind(), source.modelRef(), raw[s][i],
                            normalised));
                }
            }
            outcomes.add(new ScoringOutcome(batch.get(i), aggregate(results), null));
        }
        return outcomes;
    }

    /** Aggregates already-normalised per-source results into the ensemble statistics and the reward. */
    public EnsembleScore aggregate(List<SourceResult> results) {
        if (results.isEmpty()) {
            throw new IllegalArgumentException("cannot aggregate zero scores");
        }
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        for (SourceResult r : results) {
            sum += r.normalised();
            min = Math.min(min, r.normalised());
        }
        double mean = sum / results.size();
        double squares = 0;
        for (SourceResult r : results) {
            squares += (r.normalised() - mean) * (r.normalised() - mean);
        }
        double std = Math.sqrt(squares / results.size());
        double reward = switch (aggregation) {
            case MEAN -> mean;
            case MIN -> min;
            case MEAN_MINUS_K_STD -> mean - k * std;
            case MAJORITY_VOTE -> {
                int good = 0;
                for (SourceResult r : results) {
                    if (r.normalised() > voteThreshold) {
                        good++;
                    }
                }
                int bad = results.size() - good;
                yield Integer.compare(good, bad);
            }
        };
        return new EnsembleScore(results, mean, std, min, aggregation, reward);
    }

    private static double[] checkedScores(RewardSource source, List<ScoringInput> batch) {
        double[] scores = source.score(batch);
        if (scores == null || scores.length != batch.size()) {
            throw new IllegalStateException("reward source '" + source.name() + "' returned "
                    + (scores == null ? "null" : scores.length + " scores") + " for a batch of " + batch.size());
        }
        return scores;
    }

    /** Closes every source. */
    @Override
    public void close() {
        for (RewardSource s : sources) {
            try {
                s.close();
            } catch (RuntimeException e) {
                LOG.warn("closing reward source '{}' failed: {}", s.name(), e.toString());
            }
        }
    }

    /** Builds an ensemble; at least one source, unique names. */
    public static final class Builder {
        private final List<RewardSource> sources = new ArrayList<>();
        private Aggregation aggregation = Aggregation.MEAN;
        private double k = 1.0;
        private double voteThreshold = 0.0;
        private NormalizationSettings normalization = NormalizationSettings.DEFAULT;
        private SourceFailurePolicy failurePolicy = SourceFailurePolicy.DLQ;

        private Builder() {
        }

        /** Adds a source (required, at least one). */
        public Builder add(RewardSource source) {
            sources.add(Objects.requireNonNull(source, "source"));
            return this;
        }

        /** Adds sources (required, at least one). */
        public Builder addAll(List<? extends RewardSource> more) {
            more.forEach(this::add);
            return this;
        }

        /** The aggregation, default {@link Aggregation#MEAN}. */
        public Builder aggregation(Aggregation value) {
            this.aggregation = Objects.requireNonNull(value, "aggregation");
            return this;
        }

        /** The k of {@link Aggregation#MEAN_MINUS_K_STD}, default 1, at least 0. */
        public Builder k(double value) {
            this.k = value;
            return this;
        }

        /** The threshold above which a member votes "good" in {@link Aggregation#MAJORITY_VOTE}, default 0. */
        public Builder voteThreshold(double value) {
            this.voteThreshold = value;
            return this;
        }

        /** Normalisation, default {@link NormalizationSettings#DEFAULT}. */
        public Builder normalization(NormalizationSettings value) {
            this.normalization = Objects.requireNonNull(value, "normalization");
            return this;
        }

        /** What a source failure does, default {@link SourceFailurePolicy#DLQ}. */
        public Builder onSourceFailure(SourceFailurePolicy value) {
            this.failurePolicy = Objects.requireNonNull(value, "failurePolicy");
            return this;
        }

        public RewardEnsemble build() {
            if (sources.isEmpty()) {
                throw new IllegalArgumentException("an ensemble needs at least one reward source");
            }
            Set<String> names = new HashSet<>();
            for (RewardSource s : sources) {
                if (!names.add(s.name())) {
                    throw new IllegalArgumentException("two reward sources are named '" + s.name()
                            + "'; give one another name with ';name=...'");
                }
            }
            if (!(k >= 0) || Double.isInfinite(k)) {
                throw new IllegalArgumentException("k of mean_minus_k_std must be a finite number >= 0, got " + k);
            }
            if (!Double.isFinite(voteThreshold)) {
                throw new IllegalArgumentException("vote threshold must be finite, got " + voteThreshold);
            }
            return new RewardEnsemble(this);
        }
    }
}
