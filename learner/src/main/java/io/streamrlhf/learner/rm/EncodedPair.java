package io.streamrlhf.learner.rm;

import java.util.Objects;

/**
 * One preference pair as token ids, ready for a reward model.
 *
 * @param id           stable id of the pair (the {@code pair_id} of a {@code PreferencePair})
 * @param conversation the prompt's tokens
 * @param chosen       the preferred response's tokens
 * @param rejected     the other response's tokens
 * @param chosenGold   gold reward of {@code chosen} on the synthetic world; {@code NaN} when unknown
 * @param rejectedGold gold reward of {@code rejected}; {@code NaN} when unknown
 * @param raterFlipped whether the synthetic rater flipped this label; {@code null} when unknown.
 *                     Kept for analysis only: no training method reads it
 */
public record EncodedPair(String id, int[] conversation, int[] chosen, int[] rejected, double chosenGold,
                          double rejectedGold, Boolean raterFlipped) {

    /** Checks that the parts are present. */
    public EncodedPair {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(conversation, "conversation");
        Objects.requireNonNull(chosen, "chosen");
        Objects.requireNonNull(rejected, "rejected");
    }

    /** A pair without gold rewards (real preferences). */
    public static EncodedPair of(String id, int[] conversation, int[] chosen, int[] rejected) {
        return new EncodedPair(id, conversation, chosen, rejected, Double.NaN, Double.NaN, null);
    }

    /** Whether both gold rewards are known. */
    public boolean hasGold() {
        return !Double.isNaN(chosenGold) && !Double.isNaN(rejectedGold);
    }

    /** The same pair with chosen and rejected exchanged (a flipped label). */
    public EncodedPair swapped() {
        return new EncodedPair(id, conversation, rejected, chosen, rejectedGold, chosenGold,
                raterFlipped == null ? null : !raterFlipped);
    }
}
