package io.streamrlhf.rewardstream.scoring.embed;

import io.streamrlhf.models.encoder.MiniLm;
import io.streamrlhf.models.encoder.RewardHeads;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.schemas.avro.ModelRef;
import io.streamrlhf.schemas.avro.ScoreSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The {@code embed:DIR} reward source: reward heads ({@link RewardHeads}, trained by {@code rlhf train-rm --encoder
 * minilm}) over the frozen all-MiniLM-L6-v2 embeddings of the prompt text and the response. Each batch embeds its
 * distinct texts once; the reward is the heads' mean.
 */
public final class EmbedRewardSource implements RewardSource {
    private static final Object LOCK = new Object();
    private static MiniLm shared;
    private static int users;

    private final String name;
    private final long version;
    private final RewardHeads heads;
    private final MiniLm encoder;
    private boolean closed;

    /**
     * @param name    the scorer's name in its ensemble
     * @param version the version recorded with each score
     */
    public EmbedRewardSource(String name, long version, RewardHeads heads) {
        this.name = Objects.requireNonNull(name, "name");
        this.version = version;
        this.heads = Objects.requireNonNull(heads, "heads");
        this.encoder = acquire();
    }

    /** One encoder per JVM however many sources use it: it is 90 MB and thread-safe. */
    private static MiniLm acquire() {
        synchronized (LOCK) {
            if (shared == null) {
                shared = MiniLm.load();
            }
            users++;
            return shared;
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public ScoreSource kind() {
        return ScoreSource.NEURAL_RM;
    }

    @Override
    public long version() {
        return version;
    }

    @Override
    public ModelRef modelRef() {
        return new ModelRef(heads.name(), version);
    }

    /** The heads this source scores with. */
    public RewardHeads heads() {
        return heads;
    }

    @Override
    public double[] score(List<ScoringInput> batch) {
        Map<String, Integer> index = new LinkedHashMap<>();
        for (ScoringInput input : batch) {
            index.putIfAbsent(input.promptText(), index.size());
            index.putIfAbsent(input.responseText(), index.size());
        }
        float[][] embeddings = encoder.embed(new ArrayList<>(index.keySet()));
        double[] out = new double[batch.size()];
        for (int i = 0; i < out.length; i++) {
            ScoringInput input = batch.get(i);
            out[i] = heads.score(RewardHeads.features(embeddings[index.get(input.promptText())],
                    embeddings[index.get(input.responseText())]));
        }
        return out;
    }

    @Override
    public void close() {
        synchronized (LOCK) {
            if (closed) {
                return;
            }
            closed = true;
            if (--users == 0) {
                shared.close();
                shared = null;
            }
        }
    }
}
