package io.streamrlhf.evaluator.metrics;

import io.streamrlhf.evaluator.rmb.RmbItem;
import io.streamrlhf.rewardstream.scoring.RewardEnsemble;
import io.streamrlhf.rewardstream.scoring.RewardSource;
import io.streamrlhf.rewardstream.scoring.ScoringInput;
import io.streamrlhf.rewardstream.scoring.SourceUnavailableException;
import io.streamrlhf.rewardstream.scoring.judge.ChatJudgeSource;
import io.streamrlhf.rewardstream.scoring.judge.JudgeMode;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.IntConsumer;

/**
 * Scores RMB items with the sources of a reward-stream ensemble (the same {@link RewardSource}s {@code rlhf score}
 * runs, built from the same {@code --reward} specs) and judges each item per source.
 *
 * <p>A scoring source (rule, reward model, pointwise judge) scores every response of a batch of items in one call,
 * raw (no running normalisation: a verdict compares responses of one item, and raw scores keep it independent of the
 * order items arrive in, so a replay through Kafka gives the offline result exactly). A judge in
 * {@code mode=pairwise} is instead asked, for each other response, which of it and the preferred response is better
 * (DESIGN section 7, "generative judges prompted pairwise"); which one is shown first alternates by a hash of the item
 * and position, to cancel the judge's position bias without randomness.
 */
public final class RmbScorer {

    /** Items per scoring batch by default. */
    public static final int DEFAULT_BATCH_ITEMS = 32;

    private final List<RewardSource> sources;
    private final int batchItems;

    /** Scores with every source of {@code ensemble}, {@code batchItems} items per call. */
    public RmbScorer(RewardEnsemble ensemble, int batchItems) {
        this(ensemble.sources(), batchItems);
    }

    /** Scores with {@code sources}, {@code batchItems} items per call. */
    public RmbScorer(List<RewardSource> sources, int batchItems) {
        if (sources.isEmpty()) {
            throw new IllegalArgumentException("RMB evaluation needs at least one reward source");
        }
        if (batchItems < 1) {
            throw new IllegalArgumentException("batch size must be at least 1 item, got " + batchItems);
        }
        this.sources = List.copyOf(sources);
        this.batchItems = batchItems;
    }

    /** The voters' names, in source order. */
    public List<String> voters() {
        return sources.stream().map(RewardSource::name).toList();
    }

    /** Scores and judges every item. */
    public RmbEvaluation evaluate(List<RmbItem> items) {
        return evaluate(items, done -> { });
    }

    /**
     * Scores and judges every item.
     *
     * @param progress called with the number of items done after each batch
     * @throws SourceUnavailableException when a source fails a whole batch (the message names the source)
     */
    public RmbEvaluation evaluate(List<RmbItem> items, IntConsumer progress) {
        Objects.requireNonNull(items, "items");
        List<ScoredItem> scored = new ArrayList<>(items.size());
        for (int from = 0; from < items.size(); from += batchItems) {
            List<RmbItem> batch = items.subList(from, Math.min(items.size(), from + batchItems));
            scored.addAll(scoreBatch(batch));
            progress.accept(from + batch.size());
        }
        return RmbEvaluation.of(voters(), scored);
    }

    private List<ScoredItem> scoreBatch(List<RmbItem> batch) {
        int m = sources.size();
        // perSource[s][i] = source s's scores of item i's responses
        double[][][] perSource = new double[m][][];
        for (int s = 0; s < m; s++) {
            RewardSource source = sources.get(s);
            perSource[s] = isPairwiseJudge(source) ? judge((ChatJudgeSource) source, batch) : score(source, batch);
        }
        List<ScoredItem> out = new ArrayList<>(batch.size());
        for (int i = 0; i < batch.size(); i++) {
            List<double[]> scores = new ArrayList<>(m);
            boolean[] correct = new boolean[m];
            for (int s = 0; s < m; s++) {
                scores.add(perSource[s][i]);
                correct[s] = Verdicts.preferredStrictlyAbove(perSource[s][i]);
            }
            out.add(new ScoredItem(batch.get(i), scores, correct));
        }
        return out;
    }

    private static boolean isPairwiseJudge(RewardSource source) {
        return source instanceof ChatJudgeSource judge && judge.settings().mode() == JudgeMode.PAIRWISE;
    }

    /** Every response of the batch in one call to the source; split back per item. */
    private static double[][] score(RewardSource source, List<RmbItem> batch) {
        List<ScoringInput> inputs = new ArrayList<>();
        for (RmbItem item : batch) {
            inputs.addAll(item.scoringInputs());
        }
        double[] flat = source.score(inputs);
        if (flat == null || flat.length != inputs.size()) {
            throw new IllegalStateException("reward source '" + source.name() + "' returned "
                    + (flat == null ? "null" : flat.length + " scores") + " for " + inputs.size() + " responses");
        }
        double[][] out = new double[batch.size()][];
        int at = 0;
        for (int i = 0; i < batch.size(); i++) {
            int n = batch.get(i).responses().size();
            out[i] = Arrays.copyOfRange(flat, at, at + n);
            at += n;
        }
        return out;
    }

    /**
     * Pairwise judging: the preferred response gets 1; another response gets 1 minus the judge's preference for the
     * preferred one over it (asked in both orders unless {@code orders=one}: 0 when both orders chose the preferred,
     * 0.5 when the verdict followed the position, 1 when both chose the other), NaN when a reply named neither. So
     * the verdict rule (preferred strictly above every other) means "won every comparison in both orders".
     */
    private static double[][] judge(ChatJudgeSource judge, List<RmbItem> batch) {
        double[][] out = new double[batch.size()][];
        for (int i = 0; i < batch.size(); i++) {
            RmbItem item = batch.get(i);
            String prompt = item.promptText();
            String preferred = item.preferred().answer();
            double[] scores = new double[item.responses().size()];
            scores[0] = 1.0;
            for (int k = 1; k < scores.length; k++) {
                String other = item.responses().get(k).answer();
                double preferredWon;
                if (judge.settings().bothOrders()) {
                    preferredWon = judge.preference(prompt, preferred, other);
                } else {
                    // One order only: which response goes first is fixed per pair but varies across pairs.
                    boolean preferredFirst = Math.floorMod((item.key() + "#" + k).hashCode(), 2) == 0;
                    double aWins = preferredFirst ? judge.compare(prompt, preferred, other)
                            : judge.compare(prompt, other, preferred);
                    preferredWon = Double.isNaN(aWins) ? Double.NaN : preferredFirst ? aWins : 1.0 - aWins;
                }
                scores[k] = Double.isNaN(preferredWon) ? Double.NaN : 1.0 - preferredWon;
            }
            out[i] = scores;
        }
        return out;
    }
}
