package io.streamrlhf.evaluator.live;

import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.world.SentimentTask;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.rewardstream.scoring.verify.Verifier;
import io.streamrlhf.schemas.verify.VerifierSpec;
import java.util.ArrayList;
import java.util.List;

/**
 * The verifiable demo's yardstick, off the stream: held-out items of the {@link SentimentTask} (a seed no feeder
 * uses), {@code n} samples per prompt, each checked by the same {@link Verifier} the reward stream's {@code verify:}
 * source runs. The pass rate is the share of samples that pass; best-of-n by the verifier's own oracle counts a prompt
 * as passed when any of its n samples passes (the reranker that knows the answer: an upper bound for reranking).
 */
public final class PassProbe {

    /** Rows per sampling call (the sampler's batch). */
    private static final int ROWS = 256;

    private final Vocabulary vocabulary = Vocabulary.standard();
    private final Verifier verifier = new Verifier(VerifierSpec.parse(SentimentTask.VERIFIER));
    private final List<SentimentTask.Item> items;
    private final int samplesPerPrompt;
    private final int maxNewTokens;
    private final long seed;

    /**
     * @param items            the held-out items
     * @param samplesPerPrompt samples drawn per prompt (the n of best-of-n; every sample also counts to the pass rate)
     * @param maxNewTokens     response budget (the workers')
     * @param seed             seeds the sampler
     */
    public PassProbe(List<SentimentTask.Item> items, int samplesPerPrompt, int maxNewTokens, long seed) {
        if (items.isEmpty() || samplesPerPrompt < 1) {
            throw new IllegalArgumentException("PassProbe needs items and at least one sample per prompt, got "
                    + items.size() + " items and " + samplesPerPrompt + " samples");
        }
        this.items = List.copyOf(items);
        this.samplesPerPrompt = samplesPerPrompt;
        this.maxNewTokens = maxNewTokens;
        this.seed = seed;
    }

    /** The held-out items of a run: drawn with a seed the prompt feeder never uses. */
    public static List<SentimentTask.Item> heldOutItems(long seed, int n) {
        return SentimentTask.standard(seed * 7_919L + 2_000_003L).next(n);
    }

    /**
     * What a policy scores on the held-out items.
     *
     * @param pass      share of all samples that pass the verifier
     * @param bestOfN   share of prompts with at least one passing sample among their n
     * @param samples   samples drawn
     */
    public record Score(double pass, double bestOfN, int samples) {
    }

    /** Samples {@code n} responses per held-out prompt from {@code policy} and checks each. */
    public Score score(PolicyModel policy) {
        List<SentimentTask.Item> rows = new ArrayList<>(items.size() * samplesPerPrompt);
        for (SentimentTask.Item item : items) {
            for (int i = 0; i < samplesPerPrompt; i++) {
                rows.add(item);
            }
        }
        boolean[] passed = new boolean[rows.size()];
        Sampler sampler = new Sampler(policy);
        for (int from = 0; from < rows.size(); from += ROWS) {
            int to = Math.min(rows.size(), from + ROWS);
            List<int[]> ids = new ArrayList<>(to - from);
            for (int i = from; i < to; i++) {
                ids.add(vocabulary.encodePrompt(rows.get(i).prompt()));
            }
            SampleResult r = sampler.sample(ids, SamplingParams.of(maxNewTokens, vocabulary.eosId(),
                    vocabulary.padId(), seed + from));
            for (int i = from; i < to; i++) {
                passed[i] = passes(rows.get(i), r.tokens()[i - from]);
            }
        }
        int passes = 0;
        int prompts = 0;
        for (int p = 0; p < items.size(); p++) {
            boolean any = false;
            for (int i = p * samplesPerPrompt; i < (p + 1) * samplesPerPrompt; i++) {
                passes += passed[i] ? 1 : 0;
                any |= passed[i];
            }
            prompts += any ? 1 : 0;
        }
        return new Score((double) passes / rows.size(), (double) prompts / items.size(), rows.size());
    }

    /** Whether a response (generated ids) passes its item's verifier, decoded as the policy workers decode it. */
    boolean passes(SentimentTask.Item item, int[] responseIds) {
        String response = Vocabulary.join(vocabulary.responseWords(responseIds));
        return verifier.check(response, List.of(item.answer())).passed();
    }
}
