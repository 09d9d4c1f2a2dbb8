package io.streamrlhf.models.sampling;

/**
 * How to sample.
 *
 * @param temperature  divides the logits; 0 means greedy (argmax, log-prob 0 under the point mass used)
 * @param topK         keep only the k most likely tokens; 0 turns it off
 * @param topP         keep the smallest set of most likely tokens whose probability reaches p; 1 turns it off
 * @param maxNewTokens most tokens generated per row (further capped by the context length)
 * @param eosId        a row stops after drawing this id; -1 for none
 * @param padId        fills finished rows and left padding
 * @param seed         seeds the draws; the same seed, prompts, weights and thread count give the same tokens
 */
public record SamplingParams(double temperature, int topK, double topP, int maxNewTokens, int eosId, int padId,
                             long seed) {

    /** Checks every field and names the one that is wrong. */
    public SamplingParams {
        if (!(temperature >= 0) || Double.isInfinite(temperature)) {
            throw new IllegalArgumentException("SamplingParams: temperature must be finite and >= 0, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("SamplingParams: topK must be >= 0 (0 = off), got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("SamplingParams: topP must be in (0, 1] (1 = off), got " + topP);
        }
        if (maxNewTokens <= 0) {
            throw new IllegalArgumentException("SamplingParams: maxNewTokens must be > 0, got " + maxNewTokens);
        }
        if (padId < 0) {
            throw new IllegalArgumentException("SamplingParams: padId must be >= 0, got " + padId);
        }
    }

    /** Plain ancestral sampling: temperature 1, no top-k, no top-p. */
    public static SamplingParams of(int maxNewTokens, int eosId, int padId, long seed) {
        return new SamplingParams(1.0, 0, 1.0, maxNewTokens, eosId, padId, seed);
    }

    /** A copy with another temperature. */
    public SamplingParams withTemperature(double t) {
        return new SamplingParams(t, topK, topP, maxNewTokens, eosId, padId, seed);
    }

    /** A copy with another top-k. */
    public SamplingParams withTopK(int k) {
        return new SamplingParams(temperature, k, topP, maxNewTokens, eosId, padId, seed);
    }

    /** A copy with another top-p. */
    public SamplingParams withTopP(double p) {
        return new SamplingParams(temperature, topK, p, maxNewTokens, eosId, padId, seed);
    }

    /** A copy with another seed. */
    public SamplingParams withSeed(long s) {
        return new SamplingParams(temperature, topK, topP, maxNewTokens, eosId, padId, s);
    }

    /** A copy with another token budget. */
    public SamplingParams withMaxNewTokens(int n) {
        return new SamplingParams(temperature, topK, topP, n, eosId, padId, seed);
    }
}
