package io.streamrlhf.evaluator.metrics;

/**
 * RMB's verdict rule, shared by both sets: an evaluator is right on an item when it scores the preferred response
 * (chosen, or Best-of-N's best) strictly above every other response. A tie with any other response is wrong, and so is
 * a NaN anywhere (a source that could not score a response cannot be credited with ordering it).
 */
public final class Verdicts {

    private Verdicts() {
    }

    /** Whether {@code scores[0]} is finite and strictly above every other score. */
    public static boolean preferredStrictlyAbove(double[] scores) {
        if (scores.length < 2) {
            throw new IllegalArgumentException("a verdict needs the preferred score and at least one other, got "
                    + scores.length);
        }
        double preferred = scores[0];
        if (Double.isNaN(preferred)) {
            return false;
        }
        for (int i = 1; i < scores.length; i++) {
            // NaN compares false, so an unscored loser also makes the item wrong.
            if (!(preferred > scores[i])) {
                return false;
            }
        }
        return true;
    }

    /** Majority voting: right when strictly more than half of the voters are right (a tie is wrong). */
    public static boolean majority(boolean[] votes) {
        int right = 0;
        for (boolean v : votes) {
            right += v ? 1 : 0;
        }
        return 2 * right > votes.length;
    }
}
