package io.streamrlhf.evaluator.live;

import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.reward.RewardModel;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.world.WorldPrompt;
import java.util.ArrayList;
import java.util.List;

/**
 * The demo's yardstick, off the stream: held-out prompts (a seed no feeder uses), one sample per prompt, scored by
 * the hidden gold reward; and best-of-n reranking of the SFT policy's samples by the initial reward-model ensemble.
 *
 * <p>The proxy reward of a policy is the initial ensemble's score of its samples, each member standardised by the
 * mean and std it gives the SFT policy's samples, then averaged over members: so the SFT policy's proxy is about 0
 * and a policy's proxy reads "SFT standard deviations above SFT". The same, fixed, ensemble is used before and after,
 * so the proxy is comparable across the run (the online trainer's newer models are not).
 */
public final class GoldProbe {

    /** Rows per sampling call (the sampler's batch). */
    private static final int ROWS = 256;

    private final SyntheticWorld world = SyntheticWorld.standard();
    private final Vocabulary vocabulary = world.vocabulary();
    private final List<WorldPrompt> prompts;
    private final int maxNewTokens;
    private final long seed;
    private final List<? extends RewardModel> rewardModels;
    private double[] memberMean;
    private double[] memberStd;

    /**
     * @param prompts      the held-out prompts
     * @param maxNewTokens response budget (the workers')
     * @param seed         seeds the samplers
     * @param rewardModels the initial ensemble (not closed here)
     */
    public GoldProbe(List<WorldPrompt> prompts, int maxNewTokens, long seed, List<? extends RewardModel> rewardModels) {
        this.prompts = List.copyOf(prompts);
        this.maxNewTokens = maxNewTokens;
        this.seed = seed;
        this.rewardModels = List.copyOf(rewardModels);
    }

    /** The held-out prompts of a run: drawn with a seed the prompt feeder never uses. */
    public static List<WorldPrompt> heldOutPrompts(long seed, int n) {
        return SyntheticWorld.standard().prompts(seed * 7_919L + 1_000_003L).next(n);
    }

    /**
     * What a policy scores.
     *
     * @param gold  mean gold reward of one sample per prompt
     * @param proxy mean standardised initial-ensemble score of the same samples
     */
    public record Score(double gold, double proxy) {
    }

    /**
     * The SFT policy's figures: its own score, and best-of-{@code n} (n samples per prompt, the one the ensemble
     * scores highest kept). Also fixes the standardisation of {@link #score}.
     *
     * @return sft score and best-of-n gold
     */
    public Baseline baseline(PolicyModel sft, int n) {
        List<WorldPrompt> rows = new ArrayList<>();
        for (WorldPrompt p : prompts) {
            for (int i = 0; i < n; i++) {
                rows.add(p);
            }
        }
        Samples s = sample(sft, rows, seed + 101);
        double[][] raw = rawScores(rows, s.tokens);
        int m = raw.length;
        memberMean = new double[m];
        memberStd = new double[m];
        for (int k = 0; k < m; k++) {
            double mean = 0;
            for (double v : raw[k]) {
                mean += v;
            }
            mean /= raw[k].length;
            double var = 0;
            for (double v : raw[k]) {
                var += (v - mean) * (v - mean);
            }
            memberMean[k] = mean;
            memberStd[k] = Math.sqrt(var / raw[k].length) + 1e-8;
        }
        double[] ensemble = standardisedMean(raw);
        double bestGold = 0;
        double sftGold = 0;
        double sftProxy = 0;
        for (int p = 0; p < prompts.size(); p++) {
            int best = p * n;
            for (int i = p * n; i < (p + 1) * n; i++) {
                if (ensemble[i] > ensemble[best]) {
                    best = i;
                }
            }
            bestGold += s.gold[best];
        }
        // Every sample is an ordinary SFT sample: all n per prompt give the SFT policy's own figures (less noise).
        for (int i = 0; i < rows.size(); i++) {
            sftGold += s.gold[i];
            sftProxy += ensemble[i];
        }
        return new Baseline(new Score(sftGold / rows.size(), sftProxy / rows.size()), bestGold / prompts.size());
    }

    /**
     * The SFT policy's score and the best-of-n gold.
     *
     * @param sft        the SFT policy's score
     * @param bestOfNGold mean gold of the ensemble's pick among n SFT samples per prompt
     */
    public record Baseline(Score sft, double bestOfNGold) {
    }

    /** One sample per held-out prompt: mean gold and proxy ({@link #baseline} must have run). */
    public Score score(PolicyModel policy) {
        if (memberMean == null) {
            throw new IllegalStateException("baseline() fixes the proxy's scale; run it first");
        }
        Samples s = sample(policy, prompts, seed + 202);
        double[] ensemble = standardisedMean(rawScores(prompts, s.tokens));
        double gold = 0;
        double proxy = 0;
        for (int i = 0; i < prompts.size(); i++) {
            gold += s.gold[i];
            proxy += ensemble[i];
        }
        return new Score(gold / prompts.size(), proxy / prompts.size());
    }

    private double[] standardisedMean(double[][] raw) {
        int rows = raw[0].length;
        double[] out = new double[rows];
        for (int k = 0; k < raw.length; k++) {
            for (int i = 0; i < rows; i++) {
                out[i] += (raw[k][i] - memberMean[k]) / memberStd[k] / raw.length;
            }
        }
        return out;
    }

    private double[][] rawScores(List<WorldPrompt> rows, int[][] tokens) {
        double[][] raw = new double[rewardModels.size()][rows.size()];
        for (int from = 0; from < rows.size(); from += ROWS) {
            int to = Math.min(rows.size(), from + ROWS);
            List<int[]> conversations = new ArrayList<>();
            List<int[]> responses = new ArrayList<>();
            for (int i = from; i < to; i++) {
                conversations.add(vocabulary.encodePrompt(rows.get(i)));
                responses.add(tokens[i]);
            }
            for (int k = 0; k < rewardModels.size(); k++) {
                float[] scores = rewardModels.get(k).score(conversations, responses).scores();
                for (int i = from; i < to; i++) {
                    raw[k][i] = scores[i - from];
                }
            }
        }
        return raw;
    }

    private Samples sample(PolicyModel policy, List<WorldPrompt> rows, long drawSeed) {
        Sampler sampler = new Sampler(policy);
        int[][] tokens = new int[rows.size()][];
        double[] gold = new double[rows.size()];
        for (int from = 0; from < rows.size(); from += ROWS) {
            int to = Math.min(rows.size(), from + ROWS);
            List<int[]> ids = new ArrayList<>();
            for (int i = from; i < to; i++) {
                ids.add(vocabulary.encodePrompt(rows.get(i)));
            }
            SampleResult r = sampler.sample(ids, SamplingParams.of(maxNewTokens, vocabulary.eosId(),
                    vocabulary.padId(), drawSeed + from));
            for (int i = from; i < to; i++) {
                tokens[i] = r.tokens()[i - from];
                gold[i] = world.gold().score(rows.get(i), vocabulary.responseWords(tokens[i])).total();
            }
        }
        return new Samples(tokens, gold);
    }

    private record Samples(int[][] tokens, double[] gold) {
    }
}
