package io.streamrlhf.rewardstream.scoring;

/**
 * The result for one input of a batch: a score, or the reason it could not be scored.
 *
 * @param input the input
 * @param score the ensemble's score, or {@code null} when unscorable
 * @param error why the input is unscorable, or {@code null} when scored
 */
public record ScoringOutcome(ScoringInput input, EnsembleScore score, UnscorableException error) {

    /** Whether the input was scored. */
    public boolean scored() {
        return score != null;
    }
}
