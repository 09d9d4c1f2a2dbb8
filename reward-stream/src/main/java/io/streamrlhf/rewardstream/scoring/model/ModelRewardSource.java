package io.streamrlhf.rewardstream.scoring.model;

import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.tokenizer.Tokenizer;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A reward model as a reward source: one batched inference pass per batch
 * ({@link RewardModel#score(List, List)}). Inputs that carry token ids (generations of a policy that shares the
 * model's vocabulary) are scored on those; others are tokenised with the configured {@link Tokenizer}.
 *
 * <p>{@link #swap(RewardModel, long)} replaces the model; a batch in flight finishes on the old one, which is then
 * closed, so a batch never mixes versions.
 */
public final class ModelRewardSource implements RewardSource {
    private final String name;
    private final ScoreSource kind;
    private final Tokenizer tokenizer;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock(true);
    private RewardModel model;
    private long version;

    /**
     * @param kind      {@link ScoreSource#NEURAL_RM} or {@link ScoreSource#TORCHSCRIPT_RM}
     * @param tokenizer tokenises text-only inputs; {@code null} when every input carries tokens
     */
    public ModelRewardSource(String name, ScoreSource kind, RewardModel model, long version, Tokenizer tokenizer) {
        this.name = Objects.requireNonNull(name, "name");
        this.kind = Objects.requireNonNull(kind, "kind");
        this.model = Objects.requireNonNull(model, "model");
        this.version = version;
        this.tokenizer = tokenizer;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ScoreSource kind() {
        return kind;
    }

    @Override
    public long version() {
        lock.readLock().lock();
        try {
            return version;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public ModelRef modelRef() {
        return new ModelRef(name, version());
    }

    @Override
    public double[] score(List<ScoringInput> batch) {
        List<int[]> conversations = new ArrayList<>(batch.size());
        List<int[]> responses = new ArrayList<>(batch.size());
        for (ScoringInput input : batch) {
            if (input.hasTokens()) {
                conversations.add(input.promptTokens());
                responses.add(input.responseTokens());
            } else if (tokenizer != null) {
                conversations.add(tokenizer.encode(input.promptText()));
                responses.add(tokenizer.encode(input.responseText()));
            } else {
                throw new IllegalArgumentException("reward model '" + name + "' got input " + input.id()
                        + " without token ids and has no tokenizer (give one with ';tokenizer=FILE')");
            }
        }
        lock.readLock().lock();
        try {
            float[] scores = model.score(conversations, responses).scores();
            double[] out = new double[scores.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = scores[i];
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    /** Replaces the model by {@code next} at {@code nextVersion} after batches in flight finish; closes the old one. */
    public void swap(RewardModel next, long nextVersion) {
        Objects.requireNonNull(next, "next");
        RewardModel old;
        lock.writeLock().lock();
        try {
            old = model;
            model = next;
            version = nextVersion;
        } finally {
            lock.writeLock().unlock();
        }
        old.close();
    }

    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            model.close();
        } finally {
            lock.writeLock().unlock();
        }
    }
}
