package io.streamrlhf.models.sft;

import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.sampling.SampleResult;
import io.streamrlhf.models.sampling.Sampler;
import io.streamrlhf.models.sampling.SamplingParams;
import io.streamrlhf.models.world.ResponseSource;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.world.WorldPrompt;
import java.util.ArrayList;
import java.util.List;

/**
 * A policy answering the world's prompts (for the offline preference set): prompts encoded as
 * {@code <bos>} + words, sampled with the given parameters, responses cut at {@code <eos>}. Each
 * call advances the sampling seed, so asking twice gives two different samples. Not thread-safe.
 */
public final class PolicyResponseSource implements ResponseSource {

    private final Sampler sampler;
    private final Vocabulary vocabulary;
    private SamplingParams params;

    /**
     * @param policy     the policy (not closed by this source)
     * @param vocabulary the world's vocabulary
     * @param params     sampling parameters; its seed is the first call's, then incremented
     */
    public PolicyResponseSource(PolicyModel policy, Vocabulary vocabulary, SamplingParams params) {
        this.sampler = new Sampler(policy);
        this.vocabulary = vocabulary;
        this.params = params;
    }

    /** Plain sampling (temperature 1), room for the longest corpus response, seeded. */
    public static PolicyResponseSource of(PolicyModel policy, Vocabulary vocabulary, long seed) {
        int room = Math.min(48, policy.config().contextLength() - 8);
        return new PolicyResponseSource(policy, vocabulary,
                SamplingParams.of(room, vocabulary.eosId(), vocabulary.padId(), seed));
    }

    @Override
    public List<List<String>> respond(List<WorldPrompt> prompts) {
        List<int[]> ids = new ArrayList<>(prompts.size());
        for (WorldPrompt p : prompts) {
            ids.add(vocabulary.encodePrompt(p));
        }
        SampleResult result = sampler.sample(ids, params);
        params = params.withSeed(params.seed() + 1);
        List<List<String>> out = new ArrayList<>(prompts.size());
        for (int[] tokens : result.tokens()) {
            out.add(vocabulary.responseWords(tokens));
        }
        return out;
    }
}
