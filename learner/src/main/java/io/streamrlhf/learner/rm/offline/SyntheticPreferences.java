package io.streamrlhf.learner.rm.offline;

import io.streamrlhf.learner.rm.EncodedPair;
import io.streamrlhf.learner.rm.PairEncoder;
import io.streamrlhf.learner.rm.eval.BestOfNGroup;
import io.streamrlhf.models.world.PreferenceRecord;
import io.streamrlhf.models.world.PreferenceSetGenerator;
import io.streamrlhf.models.world.ResponseSource;
import io.streamrlhf.models.world.SimulatedRater;
import io.streamrlhf.models.world.SyntheticWorld;
import io.streamrlhf.models.world.Vocabulary;
import io.streamrlhf.models.world.WorldPrompt;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Preference data from the synthetic world for training and evaluating reward models: pairs of the
 * corpus grammar's responses labelled by a simulated rater (Bradley–Terry on the gold reward with
 * τ = {@link SyntheticWorld#DEFAULT_TAU}, then a share of labels flipped), a held-out set labelled the
 * same way, and Best-of-N groups with their gold rewards.
 *
 * @param train    training pairs (noisy labels)
 * @param heldOut  held-out pairs (labelled by the same noisy rater; gold rewards attached)
 * @param bestOfN  Best-of-N groups
 * @param flipRate the rater's flip share
 */
public record SyntheticPreferences(List<EncodedPair> train, List<EncodedPair> heldOut, List<BestOfNGroup> bestOfN,
                                   double flipRate) {

    /**
     * Generates a data set in the world's own vocabulary; the same arguments give the same data.
     *
     * @param trainPairs   training pairs
     * @param heldOutPairs held-out pairs
     * @param groups       Best-of-N groups
     * @param n            responses per group
     * @param flipRate     share of flipped rater labels, in [0, 1]
     * @param seed         seed of prompts, responses and rater
     */
    public static SyntheticPreferences generate(SyntheticWorld world, int trainPairs, int heldOutPairs, int groups,
                                                int n, double flipRate, long seed) {
        Vocabulary v = world.vocabulary();
        return generate(world, PairEncoder.of(v), (prompt, answers) -> new PairEncoder.Split(v.encodePrompt(prompt),
                answers.stream().map(v::encodeResponse).toList()), trainPairs, heldOutPairs, groups, n, flipRate, seed);
    }

    /**
     * The same data set (the same texts, labels and gold rewards as {@link #generate(SyntheticWorld, int, int, int,
     * int, double, long)} with these arguments) encoded from its texts by {@code encoder}, e.g. a Hugging Face reward
     * model's {@link io.streamrlhf.learner.rm.HfPairEncoder}.
     */
    public static SyntheticPreferences generate(SyntheticWorld world, PairEncoder encoder, int trainPairs,
                                                int heldOutPairs, int groups, int n, double flipRate, long seed) {
        return generate(world, encoder, (prompt, answers) -> encoder.split(prompt.text(),
                answers.stream().map(Vocabulary::join).toList()), trainPairs, heldOutPairs, groups, n, flipRate, seed);
    }

    private static SyntheticPreferences generate(SyntheticWorld world, PairEncoder encoder,
                                                 BiFunction<WorldPrompt, List<List<String>>, PairEncoder.Split> group,
                                                 int trainPairs, int heldOutPairs, int groups, int n, double flipRate,
                                                 long seed) {
        List<EncodedPair> train = pairs(world, encoder, trainPairs, flipRate, seed, "train");
        List<EncodedPair> heldOut = pairs(world, encoder, heldOutPairs, flipRate, seed + 7919, "heldout");
        List<BestOfNGroup> bon = new ArrayList<>(groups);
        ResponseSource source = ResponseSource.grammar(world.corpus(), seed + 104729);
        List<WorldPrompt> prompts = world.prompts(seed + 1299709).next(groups);
        List<List<List<String>>> answers = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            answers.add(source.respond(prompts));
        }
        for (int p = 0; p < groups; p++) {
            List<List<String>> responses = new ArrayList<>(n);
            double[] gold = new double[n];
            for (int i = 0; i < n; i++) {
                List<String> words = answers.get(i).get(p);
                responses.add(words);
                gold[i] = world.gold().score(prompts.get(p), words).total();
            }
            PairEncoder.Split ids = group.apply(prompts.get(p), responses);
            bon.add(new BestOfNGroup(ids.prompt(), ids.responses(), gold));
        }
        return new SyntheticPreferences(train, heldOut, bon, flipRate);
    }

    private static List<EncodedPair> pairs(SyntheticWorld world, PairEncoder encoder, int count, double flipRate,
                                           long seed, String tag) {
        SimulatedRater rater = new SimulatedRater(SyntheticWorld.DEFAULT_TAU, flipRate, seed + 31);
        PreferenceSetGenerator generator = new PreferenceSetGenerator(world.prompts(seed),
                ResponseSource.grammar(world.corpus(), seed + 17), world.gold(), rater, 64);
        List<EncodedPair> out = new ArrayList<>(count);
        for (PreferenceRecord r : generator.generate(count)) {
            out.add(fromRecord(encoder, r, tag + "-" + r.id()));
        }
        return out;
    }

    /** A JSONL record of the world's preference set as an encoded pair, gold and flip flag kept. */
    public static EncodedPair fromRecord(PairEncoder encoder, PreferenceRecord r, String id) {
        EncodedPair p = encoder.encode(id, r.prompt(), r.chosen(), r.rejected());
        return new EncodedPair(id, p.conversation(), p.chosen(), p.rejected(), r.chosenGold(), r.rejectedGold(),
                r.flipped());
    }

    /** Share of training pairs whose label the rater flipped. */
    public double observedFlipShare() {
        return train.stream().filter(p -> Boolean.TRUE.equals(p.raterFlipped())).count() / (double) train.size();
    }
}
