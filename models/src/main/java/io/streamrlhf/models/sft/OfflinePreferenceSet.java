package io.streamrlhf.models.sft;

import io.streamrlhf.models.policy.PolicyModel;
import io.streamrlhf.models.world.PreferenceRecord;
import io.streamrlhf.models.world.PreferenceSetGenerator;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import java.util.List;

/**
 * The offline preference set the first reward models train on: pairs of the SFT policy's samples
 * for the same prompt, labelled by simulated raters (flips included).
 */
public final class OfflinePreferenceSet {

    /** Prompts sampled per batch. */
    private static final int BATCH = 64;

    private OfflinePreferenceSet() {
    }

    /**
     * {@code pairs} labelled pairs.
     *
     * @param policy the SFT policy (not closed)
     * @param world  the world (prompts, gold reward)
     * @param rater  who labels
     * @param seed   seeds the prompts and the samples
     */
    public static List<PreferenceRecord> generate(PolicyModel policy, SyntheticWorld world, SimulatedRater rater,
                                                  int pairs, long seed) {
        PreferenceSetGenerator generator = new PreferenceSetGenerator(world.prompts(seed),
                PolicyResponseSource.of(policy, world.vocabulary(), seed + 1), world.gold(), rater, BATCH);
        return generator.generate(pairs);
    }
}
